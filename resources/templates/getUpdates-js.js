// getUpdates (JavaScript): polls Twitter's search API and stores new tweets
// in Updates, with the same server-script API as the Azure Mobile Services
// tutorial's job. Unlike the tutorial it pages through the results and keeps
// tweet ids exact: an id is beyond 2^53, so a JavaScript number cannot hold
// it; this job reads `id_str` and stores twitterId from it as a BigInt.
//
// App settings it reads: TWITTER_QUERY (default #mobileservices),
// TWITTER_MAX_PAGES (default 10 pages of 100 tweets), and, as secrets,
// TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET; the consumer key and
// secret come from Configure > Identity. It calls https://api.twitter.com;
// `mobile-console redirect add` sends it elsewhere (the demo's stand-in).

var updatesTable = tables.getTable('Updates');
var request = require('request');
var config = require('mobileservice-config');
var searchUrl = 'https://api.twitter.com/1.1/search/tweets.json';

function getUpdates() {
    var settings = config.appSettings;
    var query = settings.TWITTER_QUERY || '#mobileservices';
    var maxPages = parseInt(settings.TWITTER_MAX_PAGES || '10', 10);
    var oauth = {
        consumer_key: config.twitterConsumerKey,
        consumer_secret: config.twitterConsumerSecret,
        token: settings.TWITTER_ACCESS_TOKEN,
        token_secret: settings.TWITTER_ACCESS_TOKEN_SECRET
    };
    lastStoredId(function (sinceId, exact) {
        var fetched = [];
        fetchPage({q: query, result_type: 'recent', count: 100}, 1);

        function fetchPage(qs, page) {
            if (sinceId !== null) {
                qs.since_id = sinceId.toString();
            }
            request.get({url: searchUrl, qs: qs, oauth: oauth}, function (error, response, body) {
                if (error) {
                    console.error('Could not contact Twitter: ' + error.message);
                    throw error;
                }
                if (response.statusCode !== 200) {
                    console.error('Could not contact Twitter: HTTP ' + response.statusCode +
                                  ' ' + twitterErrors(body));
                    throw new Error('Twitter answered HTTP ' + response.statusCode);
                }
                var results = JSON.parse(body);
                if (!results || !Array.isArray(results.statuses)) {
                    throw new Error("Twitter's answer held no list of statuses");
                }
                fetched = fetched.concat(results.statuses);
                var next = results.search_metadata && results.search_metadata.next_results;
                if (next && results.statuses.length && page < maxPages) {
                    fetchPage(parseQuery(next), page + 1);
                } else {
                    store(fetched, sinceId, exact);
                }
            });
        }
    });
}

// The newest stored tweet's id (a BigInt) or null when there is none, and
// whether it is exact.
function lastStoredId(callback) {
    updatesTable.orderByDescending('twitterId').select('idStr').take(1).read({
        success: function (rows) {
            if (rows.length && rows[0].idStr) {
                callback(BigInt(rows[0].idStr), true);
            } else if (rows.length) {
                // Rows stored by another job, without idStr: their twitterId is
                // rounded here, so ask from a little below it and let the
                // database say exactly which tweets are stored already.
                updatesTable.orderByDescending('twitterId').select('twitterId').take(1).read({
                    success: function (more) {
                        var last = more[0].twitterId;
                        callback(last === null ? null : BigInt(Math.round(last)) - 4096n, false);
                    }
                });
            } else {
                callback(null, true);
            }
        }
    });
}

function store(tweets, sinceId, exact) {
    var seen = {};
    var rows = [];
    console.log('Fetched ' + tweets.length + ' new results from Twitter');
    tweets.forEach(function (tweet) {
        var id = BigInt(tweet.id_str);
        if (seen[tweet.id_str] || (sinceId !== null && id <= sinceId) || filterOutTweet(tweet)) {
            return;
        }
        seen[tweet.id_str] = true;
        rows.push({
            twitterId: id,
            idStr: tweet.id_str,
            text: tweet.full_text || tweet.text || '',
            author: tweet.user.screen_name,
            date: new Date(tweet.created_at)
        });
    });
    if (exact || !rows.length) {
        insertAll(rows);
        return;
    }
    var left = rows.length;
    var fresh = [];
    rows.forEach(function (row) {
        updatesTable.where({twitterId: row.twitterId}).select('id').take(1).read({
            success: function (found) {
                if (!found.length) {
                    fresh.push(row);
                }
                if (--left === 0) {
                    insertAll(fresh);
                }
            }
        });
    });
}

// Inserts made in one turn share one transaction.
function insertAll(rows) {
    rows.forEach(function (row) {
        updatesTable.insert(row);
    });
    console.log('Storing ' + rows.length + ' rows in Updates');
}

// Retweets and replies are not updates.
function filterOutTweet(tweet) {
    var text = tweet.full_text || tweet.text || '';
    return text.indexOf('RT') === 0 || !!tweet.retweeted_status ||
        !!tweet.in_reply_to_status_id_str || !!tweet.in_reply_to_user_id_str;
}

// Twitter's own error messages, e.g. "Could not authenticate you. (code 32)".
function twitterErrors(body) {
    try {
        return JSON.parse(body).errors.map(function (e) {
            return e.message + ' (code ' + e.code + ')';
        }).join('; ');
    } catch (e) {
        return String(body || '').slice(0, 200);
    }
}

// "?max_id=1&q=%23x" as {max_id: '1', q: '#x'}.
function parseQuery(text) {
    var out = {};
    text.replace(/^\?/, '').split('&').forEach(function (pair) {
        if (!pair) {
            return;
        }
        var at = pair.indexOf('=');
        var key = at < 0 ? pair : pair.slice(0, at);
        var value = at < 0 ? '' : pair.slice(at + 1);
        out[decodeURIComponent(key.replace(/\+/g, ' '))] =
            decodeURIComponent(value.replace(/\+/g, ' '));
    });
    return out;
}
