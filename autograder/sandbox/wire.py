"""Plain-data wire format between the grading judge and the sandboxed student process.

Only None, bool, int, float, str, list, tuple, dict (str keys) and numeric/bool
numpy arrays cross the boundary, as JSON with base64 array payloads: nothing
the judge decodes can execute code (no pickle).

A message is an 8-byte big-endian length and that many bytes of JSON (write_message,
read_message); the judge reads each reply with a deadline (read_message(fd, deadline)).
"""

import base64
import json
import os
import select
import struct
import time

import numpy as np

ARRAY_DTYPES = {"float64", "float32", "int64", "int32", "bool", "int8", "int16", "uint8", "float16"}
HEADER = struct.Struct("!Q")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WireError(ValueError):
    """A value that cannot cross the sandbox boundary."""


class MessageTooLarge(WireError):
    """A message announced as longer than MAX_MESSAGE_BYTES (it is not read)."""


def encode(obj, depth=0):
    """Turn obj into JSON-able data; raises WireError for anything else."""
    if depth > 32:
        raise WireError("value is nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return {"__int__": str(int(obj))}
    if isinstance(obj, (float, np.floating)):
        return {"__float__": repr(float(obj))}
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.name not in ARRAY_DTYPES:
            raise WireError(f"array of dtype {obj.dtype} is not supported")
        data = np.ascontiguousarray(obj)
        return {"__array__": base64.b64encode(data.tobytes()).decode("ascii"),
                "dtype": obj.dtype.name, "shape": list(obj.shape)}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in obj]}
    if isinstance(obj, list):
        return [encode(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise WireError("dict keys must be strings")
        return {"__dict__": {k: encode(v, depth + 1) for k, v in obj.items()}}
    raise WireError(f"a value of type {type(obj).__name__} cannot be returned for grading")


def decode(data):
    """Inverse of encode; validates every array header."""
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__int__" in data:
            return int(data["__int__"])
        if "__float__" in data:
            return float(data["__float__"])
        if "__tuple__" in data:
            return tuple(decode(v) for v in data["__tuple__"])
        if "__dict__" in data:
            return {str(k): decode(v) for k, v in data["__dict__"].items()}
        if "__array__" in data:
            dtype = str(data["dtype"])
            if dtype not in ARRAY_DTYPES:
                raise WireError(f"bad dtype {dtype}")
            shape = tuple(int(s) for s in data["shape"])
            raw = base64.b64decode(data["__array__"])
            return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise WireError("malformed message")


def dumps(obj) -> bytes:
    return json.dumps(encode(obj)).encode("utf-8")


def loads(raw: bytes):
    return decode(json.loads(raw.decode("utf-8")))


def write_message(fd, obj):
    """Write one length-prefixed message to a file descriptor."""
    payload = dumps(obj)
    data = HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd, n, deadline=None):
    """n bytes from fd; EOFError if the other side closed it, TimeoutError past `deadline`
    (a time.monotonic() value; None waits for ever)."""
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"no reply within the time limit ({n - remaining} of {n} bytes read)")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd, deadline=None):
    """One length-prefixed message from fd, all of it before `deadline` (as in read_exactly);
    MessageTooLarge past MAX_MESSAGE_BYTES, WireError (or ValueError) for a malformed one."""
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size, deadline))
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message of {size} bytes is too large")
    return loads(read_exactly(fd, size, deadline))
