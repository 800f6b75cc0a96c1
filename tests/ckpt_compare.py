#!/usr/bin/env python3
"""Compare the parameters (and optimizer state) of two vae checkpoints (format: nn/checkpoint.h).

usage: ckpt_compare.py A.vae B.vae (--bitwise | --tol T)
Prints the largest absolute difference of the parameter values and whether every byte of the values and the
optimizer state is equal; exits 1 when the check fails (--bitwise: any byte differs; --tol: max |a - b| > T).
"""
import struct
import sys


def tensors(path):
    b = open(path, "rb").read()
    assert b[:8] == b"VAECKPT\n", path + ": not a checkpoint"
    step, = struct.unpack_from("<Q", b, 32)
    nslots, = struct.unpack_from("<I", b, 44)
    dtype, ntens, meta = struct.unpack_from("<IIQ", b, 112)
    fmt, size = ("d", 8) if dtype == 1 else ("f", 4)
    off, out = 128 + meta, []
    for _ in range(ntens):
        nl, = struct.unpack_from("<I", b, off)
        name = b[off + 4:off + 4 + nl].decode()
        off += 4 + nl
        _, nd = struct.unpack_from("<II", b, off)
        shape = struct.unpack_from("<%dq" % nd, b, off + 8)
        off += 8 + 8 * nd
        n = 1
        for s in shape:
            n *= s
        vals = b[off:off + n * size]
        state = b[off + n * size:off + (1 + nslots) * n * size]
        off += (1 + nslots) * n * size
        out.append((name, struct.unpack("<%d%s" % (n, fmt), vals), vals, state))
    return step, out


def main():
    a, b, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    sa, ta = tensors(a)
    sb, tb = tensors(b)
    if sa != sb or [t[0] for t in ta] != [t[0] for t in tb]:
        print("different runs: steps %d / %d" % (sa, sb))
        return 1
    worst, n, scale = 0.0, 0, 0.0
    same = all(x[2] == y[2] and x[3] == y[3] for x, y in zip(ta, tb))
    for x, y in zip(ta, tb):
        for u, v in zip(x[1], y[1]):
            worst = max(worst, abs(u - v))
            scale = max(scale, abs(u))
            n += 1
    print("step %d, %d parameters, max |a-b| %.3g (max |a| %.3g), bitwise %s" %
          (sa, n, worst, scale, "equal" if same else "different"))
    if mode == "--bitwise":
        return 0 if same else 1
    return 0 if worst <= float(sys.argv[4]) else 1


if __name__ == "__main__":
    sys.exit(main())
