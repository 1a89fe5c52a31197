"""Files encrypted at rest: a person's voice notes, photos and documents.

Bytes are encrypted here, before they reach Django's storage API, so the storage (a local
folder, an S3 bucket through django-storages) never holds plaintext. Envelope encryption:
each file has its own random AES-256 key, kept in the database encrypted with the field key
(MessageMedia.file_key is an EncryptedTextField), so `rotate_encryption_key` re-wraps every
file key with the other columns and the file bytes never need rewriting; erasing the row's
key makes the file unreadable even where a storage delete did not happen.

The format streams: a header (magic, version, 8-byte random nonce prefix), then frames of at
most FRAME_BYTES plaintext, each stored as a 4-byte length and the AES-GCM ciphertext (with
its 16-byte tag). A frame's nonce is the prefix and its 4-byte number; its associated data
names its number and whether it is the last frame, so frames cannot be reordered, dropped or
cut off at the end without the decryption failing.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.storage.handler import InvalidStorageError

MAGIC = b"HLDF"  # Hotline Desk File
VERSION = 1
FRAME_BYTES = 64 * 1024
HEADER = struct.Struct(">4sB8s")
LENGTH = struct.Struct(">I")
TAG_BYTES = 16
HEAD_BYTES = 4096  # how much plaintext the caller gets back to sniff the type from
STORAGE_ALIAS = "media"


class FileDecryptionError(Exception):
    """The stored file is not one of ours, was altered, or its key is wrong or erased."""


def storage() -> Storage:
    """The storage for encrypted media: STORAGES["media"], else a folder under VAR_DIR."""
    try:
        return storages[STORAGE_ALIAS]
    except InvalidStorageError:
        return FileSystemStorage(location=os.path.join(settings.VAR_DIR, "media"))


def new_key() -> str:
    """A new file key, as text for MessageMedia.file_key (which encrypts it in turn)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _aad(number: int, last: bool) -> bytes:
    return MAGIC + struct.pack(">IB", number, 1 if last else 0)


def _nonce(prefix: bytes, number: int) -> bytes:
    return prefix + struct.pack(">I", number)


def encrypt_chunks(chunks: Iterable[bytes], key: str) -> Iterator[bytes]:
    """The encrypted form of the bytes `chunks` yields (any sizes), frame by frame."""
    aes = AESGCM(base64.b64decode(key))
    prefix = secrets.token_bytes(8)
    yield HEADER.pack(MAGIC, VERSION, prefix)
    number, buffer = 0, bytearray()
    for chunk in chunks:
        buffer += chunk
        # More than a frame held: the first frame is certainly not the last one.
        while len(buffer) > FRAME_BYTES:
            sealed = aes.encrypt(_nonce(prefix, number), bytes(buffer[:FRAME_BYTES]), _aad(number, False))
            del buffer[:FRAME_BYTES]
            yield LENGTH.pack(len(sealed)) + sealed
            number += 1
    # What is left (at most a frame; empty only for an empty file) is the last frame.
    sealed = aes.encrypt(_nonce(prefix, number), bytes(buffer), _aad(number, True))
    yield LENGTH.pack(len(sealed)) + sealed


def decrypt_stream(stream: IO[bytes], key: str, *, first_frame: int = 0) -> Iterator[bytes]:
    """The plaintext of an encrypted file, frame by frame (at most FRAME_BYTES each), from
    frame `first_frame` on (every frame but the last holds exactly FRAME_BYTES, so a byte
    range starts at a known frame: the stream must then be seekable)."""
    try:
        aes = AESGCM(base64.b64decode(key, validate=True))
    except (ValueError, TypeError):
        raise FileDecryptionError("no valid key") from None
    header = stream.read(HEADER.size)
    if len(header) != HEADER.size:
        raise FileDecryptionError("not an encrypted file")
    magic, version, prefix = HEADER.unpack(header)
    if magic != MAGIC or version != VERSION:
        raise FileDecryptionError("not an encrypted file")
    number = first_frame
    if first_frame:
        stream.seek(HEADER.size + first_frame * (LENGTH.size + FRAME_BYTES + TAG_BYTES))
    length = stream.read(LENGTH.size)
    while True:
        if len(length) != LENGTH.size:
            raise FileDecryptionError("truncated")
        (size,) = LENGTH.unpack(length)
        if size > FRAME_BYTES + TAG_BYTES:
            raise FileDecryptionError("bad frame")
        sealed = stream.read(size)
        if len(sealed) != size:
            raise FileDecryptionError("truncated")
        length = stream.read(LENGTH.size)
        last = not length
        try:
            yield aes.decrypt(_nonce(prefix, number), sealed, _aad(number, last))
        except InvalidTag:
            raise FileDecryptionError("altered, or the wrong key") from None
        if last:
            return
        number += 1


@dataclass(frozen=True)
class Stored:
    name: str
    key: str
    size: int  # plaintext bytes
    head: bytes  # the first HEAD_BYTES of plaintext, to sniff the type from


def store(chunks: Iterable[bytes], *, folder: str = "media") -> Stored:
    """Encrypt `chunks` with a new key and save them through the storage; the plaintext
    never reaches the storage (spooled encrypted to memory, or to a temporary file past 1 MiB)."""
    key = new_key()
    head = bytearray()
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for chunk in chunks:
            size += len(chunk)
            if len(head) < HEAD_BYTES:
                head.extend(chunk[: HEAD_BYTES - len(head)])
            yield chunk

    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        for piece in encrypt_chunks(counted(), key):
            spool.write(piece)
        spool.seek(0)
        token = secrets.token_hex(16)
        name = storage().save(f"{folder}/{token[:2]}/{token}.bin", File(spool))
    return Stored(name=name, key=key, size=size, head=bytes(head))


def open_plain(name: str, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Stream the decrypted bytes start..end (inclusive; None: to the end) of a stored file;
    only the frames holding them are read. The storage file is closed at the end."""
    handle = storage().open(name, "rb")
    try:
        first = start // FRAME_BYTES
        position = first * FRAME_BYTES
        for frame in decrypt_stream(handle, key, first_frame=first):
            piece = frame[max(start - position, 0):]
            if end is not None:
                piece = piece[: max(end + 1 - max(start, position), 0)]
            position += len(frame)
            if piece:
                yield piece
            if end is not None and position > end:
                return
    finally:
        handle.close()


def read_plain(name: str, key: str) -> bytes:
    return b"".join(open_plain(name, key))


def delete(name: str) -> None:
    """Delete a stored file; a missing one is already gone."""
    if name:
        storage().delete(name)
