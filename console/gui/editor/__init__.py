"""The script editor of the Script tab (`ScriptPane`): highlighting,
diagnostics and a Problems list, completion and docs for the job script API
(from its one declaration, `resources/script_api/job_api.pyi`), signature
help, hover, find / replace, go to line and the editing keys."""

from console.gui.editor.code_editor import CodeEditor
from console.gui.editor.diagnostics import SCRIPT_GLOBALS, Diagnostic, check_source
from console.gui.editor.pane import ScriptPane

__all__ = ["SCRIPT_GLOBALS", "CodeEditor", "Diagnostic", "ScriptPane", "check_source"]
