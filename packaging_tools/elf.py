"""Just enough of the ELF format (64-bit, little-endian) to find sections and dynamic symbols.

The build needs three things from a library: whether it carries debug
information (a ``.debug_*`` section, see ``debuginfo``), where the ICU data
symbol's bytes lie in ``libicudata`` (see ``icu``), and which libraries and
functions a module imports (see ``libraries`` and ``blas``).  All are read from the section
header table; nothing is loaded or relocated.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

ELF64_LITTLE_ENDIAN = b"\x7fELF\x02\x01"  # magic, ELFCLASS64, ELFDATA2LSB
SHT_DYNSYM = 11
SHN_UNDEF = 0  # a symbol's section index when the file imports it
SHT_DYNAMIC = 6
DT_NEEDED = 1


class Section(NamedTuple):
    name: str
    kind: int  # sh_type
    addr: int
    offset: int  # where the section's bytes start in the file
    size: int
    link: int  # for a symbol table: the index of its string table
    entsize: int


class Symbol(NamedTuple):
    name: str
    offset: int  # where the symbol's bytes start in the file
    size: int


def is_elf64le(path: str | Path) -> bool:
    """Whether ``path`` starts like a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        return f.read(len(ELF64_LITTLE_ENDIAN)) == ELF64_LITTLE_ENDIAN


def _c_string(data: bytes, at: int) -> str:
    return data[at: data.index(b"\0", at)].decode()


def elf_sections(data: bytes) -> list[Section]:
    """The sections of an ELF64 little-endian file, in header table order."""
    if data[:6] != ELF64_LITTLE_ENDIAN:
        raise ValueError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = raw[shstrndx][4] if shstrndx < shnum else None
    sections = []
    for name, kind, _flags, addr, offset, size, link, _info, _align, entsize in raw:
        label = _c_string(data, names_at + name) if names_at else ""
        sections.append(Section(label, kind, addr, offset, size, link, entsize))
    return sections


def elf_symbol(data: bytes, prefix: str, suffix: str) -> Symbol:
    """The first dynamic symbol named ``prefix...suffix`` that is defined in a section."""
    sections = elf_sections(data)
    for section in sections:
        if section.kind != SHT_DYNSYM or not section.entsize:
            continue
        strtab = sections[section.link].offset
        for j in range(section.size // section.entsize):
            st_name, _info, _other, shndx, value, length = struct.unpack_from(
                "<IBBHQQ", data, section.offset + j * section.entsize)
            name = _c_string(data, strtab + st_name)
            if name.startswith(prefix) and name.endswith(suffix) and 0 < shndx < len(sections):
                target = sections[shndx]
                return Symbol(name, target.offset + value - target.addr, length)
    raise ValueError(f"no symbol {prefix}*{suffix}")


def dynamic_symbols(data: bytes) -> list[tuple[str, bool]]:
    """(name, defined) of every named dynamic symbol; ``defined`` is False for a
    symbol the file imports (its section index is ``SHN_UNDEF``)."""
    sections = elf_sections(data)
    symbols = []
    for section in sections:
        if section.kind != SHT_DYNSYM or not section.entsize:
            continue
        strtab = sections[section.link].offset
        for j in range(section.size // section.entsize):
            st_name, _info, _other, shndx, _value, _size = struct.unpack_from(
                "<IBBHQQ", data, section.offset + j * section.entsize)
            if st_name:
                symbols.append((_c_string(data, strtab + st_name), shndx != SHN_UNDEF))
    return symbols


def needed_libraries(data: bytes) -> list[str]:
    """The libraries the file links to directly (its ``DT_NEEDED`` entries), in order."""
    sections = elf_sections(data)
    needed = []
    for section in sections:
        if section.kind != SHT_DYNAMIC or not section.entsize:
            continue
        strtab = sections[section.link].offset
        for j in range(section.size // section.entsize):
            tag, value = struct.unpack_from("<qQ", data, section.offset + j * section.entsize)
            if tag == DT_NEEDED:
                needed.append(_c_string(data, strtab + value))
    return needed


def has_debug_info(path: str | Path) -> bool:
    """Whether ``path`` is an ELF64 little-endian file with ``.debug_*`` sections."""
    return is_elf64le(path) and any(
        section.name.startswith(".debug_") for section in elf_sections(Path(path).read_bytes()))
