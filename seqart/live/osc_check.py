"""Is a packet exactly OSC 1.0? python-osc reads some short, padded or over-long packets anyway.

OSC 1.0: every part is a multiple of 4 bytes; strings end in a NUL and are padded with
NULs to 4 bytes; a message is an address, a type tag string (",fi...") and exactly the
arguments its tags announce; a bundle is "#bundle", an 8-byte timetag and parts, each
with its size in front. Nested bundles are walked without recursion.
"""

from __future__ import annotations


def osc_problem(data: bytes) -> str | None:
    """Why `data` is not exactly one OSC 1.0 packet (short, padded, cut, trailing bytes), or None."""
    todo = [data]
    while todo:
        d = todo.pop()
        if len(d) % 4:
            return f"{len(d)} bytes, not a multiple of 4"
        if d.startswith(b"#bundle\0"):
            pos = 16
            if len(d) < pos:
                return "a bundle shorter than its header"
            while pos < len(d):
                n = int.from_bytes(d[pos : pos + 4], "big", signed=True)
                if n <= 0 or n % 4 or pos + 4 + n > len(d):
                    return f"a bundle part of {n} bytes at byte {pos}"
                todo.append(d[pos + 4 : pos + 4 + n])
                pos += 4 + n
            continue
        problem = _message_problem(d)
        if problem:
            return problem
    return None


_ARG_BYTES = {**dict.fromkeys("ifcrm", 4), **dict.fromkeys("hdt", 8), **dict.fromkeys("TFNI[]", 0)}


def _message_problem(d: bytes) -> str | None:
    pos = _string_end(d, 0)
    if pos is None or not d.startswith(b"/"):
        return "the address is not a padded string starting with /"
    if pos == len(d):
        return None  # no type tags: a message without arguments
    tags_end = _string_end(d, pos)
    if d[pos : pos + 1] != b"," or tags_end is None:
        return "the type tags are not a padded string starting with ,"
    tags, pos = d[pos + 1 : d.index(b"\0", pos)].decode("latin1"), tags_end
    for tag in tags:
        if tag in "sS":
            pos = _string_end(d, pos)
        elif tag == "b":
            n = int.from_bytes(d[pos : pos + 4], "big", signed=True)
            pos = pos + 4 + n + (-n % 4) if n >= 0 else None
        elif tag in _ARG_BYTES:
            pos += _ARG_BYTES[tag]
        else:
            return f"unknown type tag {tag!r}"
        if pos is None or pos > len(d):
            return f"the arguments ({tags}) are cut short"
    return f"{len(d) - pos} bytes after the arguments ({tags})" if pos != len(d) else None


def _string_end(d: bytes, pos: int) -> int | None:
    """Where an OSC string starting at pos ends: after its NUL and zero padding to 4 bytes; None if malformed."""
    z = d.find(b"\0", pos)
    end = (z // 4 + 1) * 4 if z >= 0 else -1
    if z < 0 or end > len(d) or d[z:end].strip(b"\0"):
        return None
    return end
