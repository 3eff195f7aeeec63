"""What the runtime tests share: the development key, an encode through the
installed package, a check that no plaintext reached the disk, a missing
package reported by name, and a LiteRT interpreter run over inputs."""

import importlib
import pathlib

import pytest

from ava_toolchain import ava3

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY_FILE = ROOT / "testdata" / "keys" / "dev.key"
KEY = bytes.fromhex(KEY_FILE.read_text().strip())
DEV_KEY = ava3.Key.from_hex(KEY_FILE.read_text())


def need(module):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pytest.fail(f"the Python package providing `{module}` is missing ({e}); "
                    f"tests/runtimes.sh installs it from tests/requirements.txt")


def encode(src, dst):
    ava3.encode(src, dst, key=DEV_KEY, force=True)
    return dst


def no_plaintext_files(folder, plaintext):
    for p in pathlib.Path(folder).rglob("*"):
        if p.is_file():
            assert p.read_bytes() != plaintext, f"plaintext written to {p}"


def invoke_all(interpreter, inputs):
    """Runs a LiteRT interpreter (one input, one output) on each input;
    the outputs, copied."""
    interpreter.allocate_tensors()
    i, o = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    outs = []
    for x in inputs:
        interpreter.set_tensor(i["index"], x)
        interpreter.invoke()
        outs.append(interpreter.get_tensor(o["index"]).copy())
    return outs
