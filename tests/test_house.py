"""Each modality's knowledge lives in its codec (docs/architecture.md): checked on the source itself.

Two checks anyone can rerun (`pytest tests/test_house.py`):

* imports: the core modules and everything in `seqart/live/`, `seqart/export/` and `seqart/studio/` import no
  modality codec by name, only the registry (`seqart.codecs`) and the contract (`seqart.codecs.base`);
* names: no module outside `seqart/codecs/` and `seqart/formats/` holds a modality name ("notes")
  or a channel name ("pitch", "dx") as a string in its code (docstrings and comments are prose,
  not code), nor probes a codec with hasattr/getattr for a hook the contract does not declare.
  The few allowed places are listed in ALLOWED, each with its reason.

Both read the source with `ast`, so a test here fails when someone writes
`if codec.modality == "notes":` in `seqart/live/` (see the tests at the end that prove it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from seqart.codecs import codec_class, known_modalities

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "seqart"

# The core: the pipeline every modality shares (docs/architecture.md), plus the modules that
# load, generate, evaluate and export through it.
CORE = ("clip", "layout", "mdn", "model", "data", "train", "sample", "checkpoint", "rnn", "window", "family",
        "shards", "splits", "config", "errors", "limits", "modelio", "evaluate", "generate", "render", "autocond",
        "precision", "api", "spec", "spec_docs", "demo")
CHECKED_FOLDERS = ("live", "export", "studio")

# A by-name import of a modality codec outside the codecs, with the reason it is allowed.
IMPORT_ALLOWED = {
    ("cli.py", "seqart.codecs.handwriting.synthetic"):
        "`seqart make-handwriting` is the handwriting codec's own data generator, a command of its own",
}

# (module, string) -> why that module may hold a modality or channel name in its code.
ALLOWED = {
    ("limits.py", "notes"): "the name of a reader limit (SEQART_MAX_NOTES: notes in one MIDI file), not a modality test",
    ("render.py", "notes"): "the render piece key `notes` (how many frames to generate), not a modality test",
    # Handwriting's own measures (the handwriting work, landed while the codecs moved into packages); they
    # belong in seqart/codecs/handwriting/ beside the other codecs' quality.py, a move left to that work.
    ("quality/legibility.py", "handwriting"): "a Hershey reference line made into a handwriting clip",
    ("handwrite.py", "hasattr(codec, ...)"): "`seqart write --text-file` checks the whole text against a text "
                                            "model's alphabet first; a model without text is refused by write_line",
}


def _modules() -> list[Path]:
    """Every module outside seqart/codecs/ and seqart/formats/ (the shipped models hold no code)."""
    return sorted(p for p in PKG.rglob("*.py") if p.relative_to(PKG).parts[0] not in ("codecs", "formats"))


def _names() -> set[str]:
    """Every modality's name and the channels its codec declares by default."""
    names = set(known_modalities())
    for m in known_modalities():
        lay = codec_class(m)().layout
        names |= set(lay.channels) | {c.channel for c in lay.categoricals}
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (prose, not code)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def codec_imports(source: str) -> list[str]:
    """The modality codec modules a module's source imports by name (anything under seqart.codecs.
    but the contract, seqart.codecs.base), in order."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods = [node.module] + ([f"seqart.codecs.{a.name}" for a in node.names]
                                    if node.module == "seqart.codecs" else [])
        else:
            continue
        for mod in mods:
            parts = mod.split(".")
            if parts[:2] == ["seqart", "codecs"] and len(parts) > 2 and parts[2] in known_modalities():
                found.append(mod)
    return found


def modality_knowledge(source: str, names: set[str]) -> list[str]:
    """What a module's code says that only a codec should: modality and channel names held as strings
    in code, and hasattr/getattr probes on a codec."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value in names:
                found.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr"):
            if node.args and "codec" in ast.unparse(node.args[0]).lower():
                found.append(f"{node.func.id}({ast.unparse(node.args[0])}, ...)")
    return found


def _rel(p: Path) -> str:
    return p.relative_to(PKG).as_posix()


def test_the_core_and_live_and_export_import_no_modality_codec_by_name():
    core = [PKG / f"{m}.py" for m in CORE if (PKG / f"{m}.py").exists()]
    assert len(core) >= 20  # the list names real modules (a rename must not empty it)
    checked = core + sorted(p for f in CHECKED_FOLDERS for p in (PKG / f).rglob("*.py")) + [PKG / "cli.py"]
    bad = {}
    for p in checked:
        mods = [m for m in codec_imports(p.read_text()) if (_rel(p), m) not in IMPORT_ALLOWED]
        if mods:
            bad[_rel(p)] = mods
    assert not bad, f"modality codecs imported by name (dispatch through the codec instead): {bad}"


def test_formats_import_no_codec():
    """Readers build clips with `seqart.formats` helpers only; codecs import formats, never the reverse."""
    bad = {}
    for p in sorted((PKG / "formats").rglob("*.py")):
        mods = []
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, ast.ImportFrom) and n.module:
                mods.append(n.module)
            elif isinstance(n, ast.Import):
                mods += [a.name for a in n.names]
        if any(m.startswith("seqart.codecs") for m in mods):
            bad[_rel(p)] = [m for m in mods if m.startswith("seqart.codecs")]
    assert not bad, f"formats importing codecs (a cycle): {bad}"


def test_no_module_outside_the_codecs_names_a_modality_or_a_channel():
    names = _names()
    assert {"strokes", "notes", "poses", "pitch", "dx", "pen", "dt"} <= names  # the check looks for real names
    bad = {}
    for p in _modules():
        hits = [h for h in modality_knowledge(p.read_text(), names) if (_rel(p), h) not in ALLOWED]
        if hits:
            bad[_rel(p)] = sorted(set(hits))
    assert not bad, f"modality knowledge outside seqart/codecs and seqart/formats (move it into the codec): {bad}"


def test_every_allowed_place_is_still_needed():
    """An exception that no longer matches anything is removed, so the list stays the truth."""
    names = _names()
    for (mod, what), why in ALLOWED.items():
        assert why and what in modality_knowledge((PKG / mod).read_text(), names), (mod, what)
    for (mod, what), why in IMPORT_ALLOWED.items():
        assert why and what in codec_imports((PKG / mod).read_text()), (mod, what)


# --- the checks catch what they are for -------------------------------------------------------------
@pytest.mark.parametrize("line", [
    'if codec.modality == "notes":\n    pass\n',
    'x = frame[codec.layout.channels.index("pitch")]\n',
    'hook = hasattr(self.codec, "frame_note")\n',
    'if {"dx", "dy", "pen"} <= set(channels):\n    pass\n',
])
def test_the_name_check_fails_on_modality_branches_added_to_live(line):
    source = (PKG / "live" / "events.py").read_text() + "\n\n" + line
    assert modality_knowledge(source, _names())


@pytest.mark.parametrize("line", [
    "from seqart.codecs.notes import NotesCodec\n",
    "import seqart.codecs.poses.kinematics\n",
    "from seqart.codecs import strokes\n",
])
def test_the_import_check_fails_on_a_codec_imported_by_name(line):
    assert codec_imports((PKG / "live" / "engine.py").read_text() + "\n" + line)


def test_docstrings_and_the_contract_are_not_modality_knowledge():
    source = '"""Notes, strokes: "notes" in prose."""\nfrom seqart.codecs.base import Codec\nfrom seqart.codecs import codec_class\n'
    assert not modality_knowledge(source, _names()) and not codec_imports(source)
