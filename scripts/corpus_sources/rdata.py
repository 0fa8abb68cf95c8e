"""A reader for R's serialized data: enough of R's XDR format to read a lazy-load database.

R packages keep their data sets as a lazy-load database: ``Rdata.rdx`` (a
gzipped index, itself a serialized R list) and ``Rdata.rdb`` (the objects,
each zlib-compressed after a 4-byte length).  Vectors come back as
``("vec", type, values, attributes)`` and pairlists as
``("pair", tag, car, cdr, attributes)``; ``r_names`` reads the ``names``
attribute.  No R needed.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path


class RUnserializer:
    """Minimal reader for R's XDR serialization format (versions 2 and 3)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.p = 0
        self.refs: list[object] = []

    def _int(self) -> int:
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def _length(self) -> int:
        n = self._int()
        if n == -1:
            hi, lo = self._int(), self._int()
            n = (hi << 32) + lo
        return n

    def read(self) -> object:
        if self.d[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.p = 2
        version = self._int()
        self._int()
        self._int()
        if version == 3:
            n = self._int()  # length of the native-encoding name
            self.p += n
        return self._item()

    def _item(self) -> object:  # noqa: C901 - a flat dispatch on SEXP types
        flags = self._int()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t in (254, 253, 252, 251, 250, 242, 241):
            return None
        if t == 255:  # REFSXP
            i = flags >> 8 or self._int()
            return self.refs[i - 1]
        if t in (247, 249, 248):  # PERSISTSXP, NAMESPACESXP, PACKAGESXP
            self._int()
            v = [self._item() for _ in range(self._length())]
            self.refs.append(("persist", v))
            return self.refs[-1]
        if t == 1:  # SYMSXP
            s = self._item()
            self.refs.append(("sym", s))
            return self.refs[-1]
        if t == 4:  # ENVSXP
            self._int()
            env: dict[str, object] = {}
            self.refs.append(env)
            for _ in range(4):
                self._item()
            return env
        if t in (2, 3, 5, 6, 17, 239, 240):  # pairlist-like
            attr = self._item() if has_attr else None
            tag = self._item() if has_tag else None
            car = self._item()
            cdr = self._item()
            return ("pair", tag, car, cdr, attr)
        if t == 238:  # ALTREP
            return ("altrep", self._item(), self._item(), self._item())
        if t == 9:  # CHARSXP
            n = self._int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n]
            self.p += n
            return s.decode("latin-1" if flags & (1 << 14) else "utf-8", "replace")
        value: object
        if t in (10, 13):
            n = self._length()
            value = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
        elif t == 14:
            n = self._length()
            value = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
        elif t == 15:
            self.p += 16 * self._length()
            value = None
        elif t == 24:
            n = self._length()
            value = self.d[self.p:self.p + n]
            self.p += n
        elif t in (16, 19, 20):
            value = [self._item() for _ in range(self._length())]
        else:
            raise ValueError(f"unsupported R SEXP type {t}")
        attr = self._item() if has_attr else None
        return ("vec", t, value, attr)


def r_names(attr: object) -> list[str]:
    """Return the 'names' attribute from an R attribute pairlist."""
    while isinstance(attr, tuple) and attr and attr[0] == "pair":
        _, tag, car, cdr, _ = attr
        if isinstance(tag, tuple) and tag[1] == "names" and isinstance(car, tuple):
            return list(car[2])
        attr = cdr
    return []


def read_r_lazyload(data_dir: Path, stem: str = "Rdata") -> dict[str, object]:
    """Read every object of an R lazy-load database (``.rdx`` index + ``.rdb`` blobs)."""
    index = RUnserializer(gzip.decompress((data_dir / f"{stem}.rdx").read_bytes())).read()
    assert isinstance(index, tuple)
    parts = dict(zip(r_names(index[3]), index[2]))
    variables = parts["variables"]
    assert isinstance(variables, tuple)
    rdb = (data_dir / f"{stem}.rdb").read_bytes()
    out: dict[str, object] = {}
    for name, loc in zip(r_names(variables[3]), variables[2]):
        offset, length = loc[2][:2]
        blob = rdb[offset:offset + length]
        out[name] = RUnserializer(zlib.decompress(blob[4:])).read()
    return out
