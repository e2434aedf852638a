"""Mach-O, as far as a macOS stub needs it: where its identity note is, and its ad-hoc code signature.

A Mach-O stub carries the identity note in the section ``__TEXT,__venvlink``, which no linker puts in the file's
first 4 KiB (stub.c says why); the load commands, at the start of the file, say where it is.

arm64 macOS runs only signed code, and the linker signs the stub ad hoc: a CodeDirectory with the hash of every
page of the file up to the signature, which the kernel checks as it pages the file in, killing the process on a
mismatch (``SIGKILL (Code Signature Invalid)``). The recorded interpreter lies inside those pages, so writing it
invalidates the signature. An ad-hoc signature is nothing but those hashes (no certificate, no CMS blob signs the
CodeDirectory), so ``resign`` makes it valid again by hashing the pages anew, as ``codesign -s -`` would: the
signature keeps its place and size, and only page hashes change.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

MAGIC = b"\xcf\xfa\xed\xfe"  # MH_MAGIC_64 as arm64 and x86_64 store it (little-endian)
_LC_SEGMENT_64 = 0x19
_LC_CODE_SIGNATURE = 0x1D
_SUPERBLOB = 0xFADE0CC0  # CSMAGIC_EMBEDDED_SIGNATURE
_CODE_DIRECTORY = 0xFADE0C02  # CSMAGIC_CODEDIRECTORY
_CMS_SLOT = 0x10000  # CSSLOT_SIGNATURESLOT: a signature by an identity, over the CodeDirectory
_CS_ADHOC = 0x2
_HASHES = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384"}  # CS_HASHTYPE_*; 3 is SHA-256 truncated to 20


class SignatureError(ValueError):
    """A code signature that venvlink cannot renew."""


def _commands(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Each load command of a 64-bit Mach-O file: (cmd, offset, size)."""
    if len(data) < 32 or data[:4] != MAGIC:
        return
    (count,) = struct.unpack_from("<I", data, 16)
    at = 32
    for _ in range(count):
        if at + 8 > len(data):
            return
        cmd, size = struct.unpack_from("<II", data, at)
        if size < 8 or at + size > len(data):
            return
        yield cmd, at, size
        at += size


def section(data: bytes, segment: bytes, name: bytes) -> tuple[int, int] | None:
    """The file offset and size of the section ``segment,name``, or None."""
    for cmd, at, size in _commands(data):
        if cmd != _LC_SEGMENT_64 or size < 72 or data[at + 8 : at + 24].rstrip(b"\0") != segment:
            continue  # a segment command is 72 bytes before its sections: a shorter one is not read past its end
        (sections,) = struct.unpack_from("<I", data, at + 64)
        for index in range(sections):
            header = at + 72 + 80 * index
            if header + 80 > at + size:
                break
            if data[header : header + 16].rstrip(b"\0") == name:
                (length,) = struct.unpack_from("<Q", data, header + 40)
                (offset,) = struct.unpack_from("<I", data, header + 48)
                return offset, length
    return None


def note(data: bytes) -> int | None:
    """Where the identity note (stub.c's struct identity_note) starts in a Mach-O stub, or None."""
    found = section(data, b"__TEXT", b"__venvlink")
    return None if found is None else found[0]


def _code_directories(data: bytes) -> Iterator[int]:
    """The offset in ``data`` of each CodeDirectory of the file's signature; SignatureError if it is not ad hoc."""
    for cmd, at, _ in _commands(data):
        if cmd != _LC_CODE_SIGNATURE:
            continue
        start, length = struct.unpack_from("<II", data, at + 8)
        magic, _, count = struct.unpack_from(">III", data, start)
        if magic != _SUPERBLOB or start + length > len(data):
            msg = "its code signature is not one venvlink knows"
            raise SignatureError(msg)
        for index in range(count):
            slot, offset = struct.unpack_from(">II", data, start + 12 + 8 * index)
            (blob_magic, blob_length) = struct.unpack_from(">II", data, start + offset)
            if slot == _CMS_SLOT and blob_length > 8:
                msg = "it is signed with an identity, which only its signer can renew"
                raise SignatureError(msg)
            if blob_magic == _CODE_DIRECTORY:
                (flags,) = struct.unpack_from(">I", data, start + offset + 12)
                if not flags & _CS_ADHOC:
                    msg = "its code signature is not ad hoc"
                    raise SignatureError(msg)
                yield start + offset


def _page_hashes(data: bytes, directory: int) -> tuple[list[tuple[int, bytes]], list[bytes]]:
    """Where each page hash of a CodeDirectory is and what it says, and what the pages hash to now."""
    import hashlib  # noqa: PLC0415  # only a macOS stub's signature needs it: not every command's start

    hash_offset, _, _, code_slots, code_limit = struct.unpack_from(">IIIII", data, directory + 16)
    hash_size, hash_type, _, page_shift = struct.unpack_from(">BBBB", data, directory + 36)
    if hash_type not in _HASHES or not page_shift:
        msg = f"its code signature uses hash type {hash_type} or page size 2**{page_shift}"
        raise SignatureError(msg)
    page = 1 << page_shift
    slots = []
    now = []
    for index in range(code_slots):
        at = directory + hash_offset + index * hash_size
        slots.append((at, data[at : at + hash_size]))
        chunk = data[index * page : min((index + 1) * page, code_limit)]
        now.append(hashlib.new(_HASHES[hash_type], chunk).digest()[:hash_size])
    return slots, now


def signed(data: bytes) -> bool:
    """Whether the file carries a code signature."""
    return any(cmd == _LC_CODE_SIGNATURE for cmd, _, _ in _commands(data))


def signature_valid(data: bytes) -> bool:
    """Whether every page hash of the ad-hoc signature is that of its page: what the kernel checks."""
    for directory in _code_directories(data):
        slots, now = _page_hashes(data, directory)
        if [value for _, value in slots] != now:
            return False
    return True


def resign(data: bytes) -> bytes:
    """``data`` with the page hashes of its ad-hoc signature made those of its pages; unchanged if unsigned."""
    result = bytearray(data)
    try:
        for directory in _code_directories(data):
            slots, now = _page_hashes(bytes(result), directory)
            for (at, _), value in zip(slots, now):
                result[at : at + len(value)] = value
    except struct.error:  # offsets past the file's end
        msg = "its code signature is malformed"
        raise SignatureError(msg) from None
    return bytes(result)
