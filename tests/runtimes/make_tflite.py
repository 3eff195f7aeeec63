"""Writes testdata/samples/tiny-fc.amr: a small real TFLite flatbuffer
(schema v3, identifier TFL3) built with the `flatbuffers` package:

    y = FULLY_CONNECTED(x[1,8], W[16,8], b[16]);  z = ADD(y, c[1,16])

Deterministic (fixed weights). LiteRT loads and runs it; the runtime tests
compare its outputs before and after AVA3.

    python tests/runtimes/make_tflite.py testdata/samples/tiny-fc.amr
"""

import sys

import flatbuffers
import numpy as np

# TFLite schema enums used here.
FLOAT32 = 0
ADD = 0
FULLY_CONNECTED = 9


def vector_of_ints(b, start, items):
    start(b, len(items))
    for x in reversed(items):
        b.PrependInt32(x)
    return b.EndVector()


def build():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((16, 8)).astype(np.float32)
    bias = rng.standard_normal(16).astype(np.float32)
    c = rng.standard_normal((1, 16)).astype(np.float32)
    b = flatbuffers.Builder(4096)

    # Buffers: 0 empty (convention), 1 W, 2 bias, 3 c, 4..6 empty for activations.
    def buffer(data):
        if data is None:
            b.StartObject(3)
            return b.EndObject()
        raw = data.tobytes()
        b.StartVector(1, len(raw), 16)
        for byte in reversed(raw):
            b.PrependUint8(byte)
        vec = b.EndVector()
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, vec, 0)
        return b.EndObject()

    buffers = [buffer(None), buffer(w), buffer(bias), buffer(c), buffer(None), buffer(None), buffer(None)]

    def tensor(name, shape, buf):
        n = b.CreateString(name)
        b.StartVector(4, len(shape), 4)
        for d in reversed(shape):
            b.PrependInt32(d)
        sh = b.EndVector()
        b.StartObject(10)
        b.PrependUOffsetTRelativeSlot(0, sh, 0)   # shape
        b.PrependInt8Slot(1, FLOAT32, 0)          # type
        b.PrependUint32Slot(2, buf, 0)            # buffer
        b.PrependUOffsetTRelativeSlot(3, n, 0)    # name
        return b.EndObject()

    tensors = [
        tensor("x", [1, 8], 4),
        tensor("W", [16, 8], 1),
        tensor("bias", [16], 2),
        tensor("y", [1, 16], 5),
        tensor("c", [1, 16], 3),
        tensor("z", [1, 16], 6),
    ]

    def operator(opcode_index, inputs, outputs):
        b.StartVector(4, len(inputs), 4)
        for i in reversed(inputs):
            b.PrependInt32(i)
        ins = b.EndVector()
        b.StartVector(4, len(outputs), 4)
        for o in reversed(outputs):
            b.PrependInt32(o)
        outs = b.EndVector()
        b.StartObject(9)
        b.PrependUint32Slot(0, opcode_index, 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        return b.EndObject()

    ops = [operator(0, [0, 1, 2], [3]), operator(1, [3, 4], [5])]

    def offsets(items):
        b.StartVector(4, len(items), 4)
        for it in reversed(items):
            b.PrependUOffsetTRelative(it)
        return b.EndVector()

    t_vec = offsets(tensors)
    o_vec = offsets(ops)
    b.StartVector(4, 1, 4)
    b.PrependInt32(0)
    in_vec = b.EndVector()
    b.StartVector(4, 1, 4)
    b.PrependInt32(5)
    out_vec = b.EndVector()
    name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, t_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, in_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, out_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, o_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, name, 0)
    subgraph = b.EndObject()

    def opcode(code):
        b.StartObject(4)
        b.PrependInt8Slot(0, code, 0)        # deprecated_builtin_code
        b.PrependInt32Slot(2, 1, 1)          # version
        b.PrependInt32Slot(3, code, 0)       # builtin_code
        return b.EndObject()

    codes = [opcode(FULLY_CONNECTED), opcode(ADD)]
    codes_vec = offsets(codes)
    sub_vec = offsets([subgraph])
    buf_vec = offsets(buffers)
    desc = b.CreateString("ava3 tiny FC+ADD test model")
    b.StartObject(8)
    b.PrependUint32Slot(0, 3, 0)                       # version
    b.PrependUOffsetTRelativeSlot(1, codes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, sub_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, buf_vec, 0)
    model = b.EndObject()
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


if __name__ == "__main__":
    data = build()
    assert data[4:8] == b"TFL3"
    with open(sys.argv[1], "wb") as f:
        f.write(data)
