"""Python or JavaScript highlighting for the script editor (Pygments)."""

from __future__ import annotations

from pygments.lexers import JavascriptLexer, PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from PySide6.QtGui import QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from console.gui import theme


def _styles() -> list[tuple[_TokenType, QTextCharFormat]]:
    palette = theme.current()

    def fmt(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
        f = QTextCharFormat()
        f.setForeground(palette.colour(colour))
        if bold:
            f.setFontWeight(QFont.Weight.Bold)
        f.setFontItalic(italic)
        return f

    return [
        (Comment, fmt("comment", italic=True)),
        (Keyword, fmt("keyword", bold=True)),
        (String, fmt("string")),
        (Number, fmt("number")),
        (Name.Function, fmt("function")),
        (Name.Class, fmt("function", bold=True)),
        (Name.Builtin, fmt("keyword")),
        (Name.Decorator, fmt("decorator")),
        (Operator.Word, fmt("keyword", bold=True)),
    ]


class ScriptHighlighter(QSyntaxHighlighter):
    """Pygments' Python or JavaScript lexer, applied block by block."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._lexer: PythonLexer | JavascriptLexer = PythonLexer(stripnl=False, ensurenl=False)
        self._styles = _styles()
        self.language = "python"

    def restyle(self) -> None:
        """Take the palette's colours again (the theme changed)."""
        self._styles = _styles()
        self.rehighlight()

    def set_language(self, language: str) -> None:
        if language == self.language:
            return
        self.language = language
        lexer = JavascriptLexer if language == "javascript" else PythonLexer
        self._lexer = lexer(stripnl=False, ensurenl=False)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if self.language == "javascript":
            self._highlight_javascript(text)
            return
        # A line inside a triple-quoted string keeps the string colour.
        inside = self.previousBlockState() == 1
        if inside:
            end = min((i for i in (text.find('"""'), text.find("'''")) if i >= 0), default=-1)
            string_format = self._styles[2][1]
            if end < 0:
                self.setFormat(0, len(text), string_format)
                self.setCurrentBlockState(1)
                return
            self.setFormat(0, end + 3, string_format)
            self.setCurrentBlockState(0)
            return
        self.setCurrentBlockState(0)
        for start, token, value in self._lexer.get_tokens_unprocessed(text):
            for kind, style in self._styles:
                if token in kind:
                    self.setFormat(start, len(value), style)
                    break
        if (text.count('"""') + text.count("'''")) % 2 == 1:
            self.setCurrentBlockState(1)

    def _highlight_javascript(self, text: str) -> None:
        # A line inside a /* block comment */ keeps the comment colour.
        comment = self._styles[0][1]
        offset = 0
        if self.previousBlockState() == 1:
            end = text.find("*/")
            if end < 0:
                self.setFormat(0, len(text), comment)
                self.setCurrentBlockState(1)
                return
            offset = end + 2
            self.setFormat(0, offset, comment)
        self.setCurrentBlockState(0)
        rest = text[offset:]
        for start, token, value in self._lexer.get_tokens_unprocessed(rest):
            for kind, style in self._styles:
                if token in kind:
                    self.setFormat(offset + start, len(value), style)
                    break
        opened = rest.rfind("/*")
        if opened >= 0 and rest.find("*/", opened + 2) < 0 and "//" not in rest[:opened]:
            self.setFormat(offset + opened, len(rest) - opened, comment)
            self.setCurrentBlockState(1)
