# A job that says hello and counts its runs in a table named Hello.


def hello():
    table = tables.get_table("Hello")
    table.insert({"message": "hello from a job"})
    console.log(f"Hello has {table.count()} rows")
