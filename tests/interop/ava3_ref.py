"""An independent AVA3 implementation (versions 1 and 2), written from
spec/AVA3-ENCODING-SPEC.md alone (it shares no code with the Rust crates). It
exists to show that the spec is complete: it must decode every vector with the
expected outcome and payload digest, under the vector's requirements (signers,
name, minimum version), verify the signed vectors with public keys only, and
re-encode the success vectors byte for byte.

Primitives come from the `cryptography` package (AES-256-CTR, HKDF-SHA256,
Ed25519 signing) and the standard library (SHA-256, SHA-512, HMAC). Ed25519
verification is written here from spec section 2 (strict: canonical S, no
small-order A or R, cofactorless equation, R compared by its encoding),
since `cryptography` (OpenSSL) accepts a small-order R.
"""

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = bytes([0x89, 0x41, 0x56, 0x41, 0x33, 0x0D, 0x0A, 0x1A])
HEADER_LEN, TAG_LEN, TRAILER_LEN = 128, 32, 120
MAX_FILE = 2**63 - 1
# Spec 3.1: 128 + a name record of 255 bytes + a version record.
MAX_HEADER_LEN = 128 + (3 + 255) + (3 + 8)


# ---- Ed25519 verification, spec section 2 (RFC 8032 5.1 arithmetic) ----

ED_P = 2**255 - 19
ED_L = 2**252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)
ED_IDENTITY = (0, 1, 1, 0)


def _ed_recover_x(y, sign):
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * ED_SQRT_M1 % ED_P
    if (x * x - x2) % ED_P:
        return None
    if x & 1 != sign:
        x = ED_P - x
    return x


def _ed_decode(s):
    """RFC 8032 5.1.3: the point of a canonical 32-byte encoding, else None."""
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _ed_recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % ED_P)


def _ed_add(a, b):
    p = ED_P
    A = (a[1] - a[0]) * (b[1] - b[0]) % p
    B = (a[1] + a[0]) * (b[1] + b[0]) % p
    C = 2 * a[3] * b[3] * ED_D % p
    D = 2 * a[2] * b[2] % p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % p, G * H % p, F * G % p, E * H % p)


def _ed_mul(k, point):
    q = ED_IDENTITY
    while k:
        if k & 1:
            q = _ed_add(q, point)
        point = _ed_add(point, point)
        k >>= 1
    return q


def _ed_encode(point):
    zi = pow(point[2], ED_P - 2, ED_P)
    x, y = point[0] * zi % ED_P, point[1] * zi % ED_P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _ed_small_order(point):
    return _ed_encode(_ed_mul(8, point)) == _ed_encode(ED_IDENTITY)


_ED_GY = 4 * pow(5, ED_P - 2, ED_P) % ED_P
ED_BASE = (_ed_recover_x(_ED_GY, 0), _ED_GY, 1, _ed_recover_x(_ED_GY, 0) * _ED_GY % ED_P)


def public_key_ok(pk):
    """Spec 2 and 7.5: a key a reader may trust is the canonical encoding
    of a point that is not of small order."""
    a = _ed_decode(pk)
    return a is not None and not _ed_small_order(a)


def ed25519_verify(pk, message, sig):
    """Spec 2: ed25519-dalek's verify_strict. S < L; A and R decode and
    are not of small order; [S]B - [k]A, k = SHA-512(R || A || M) mod L,
    encodes to exactly the 32 bytes of R (cofactorless)."""
    if len(sig) != 64 or not public_key_ok(pk):
        return False
    r_bytes, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= ED_L:
        return False
    r = _ed_decode(r_bytes)
    if r is None or _ed_small_order(r):
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + pk + message).digest(), "little") % ED_L
    a = _ed_decode(pk)
    minus_a = (ED_P - a[0], a[1], a[2], ED_P - a[3])
    return _ed_encode(_ed_add(_ed_mul(s, ED_BASE), _ed_mul(k, minus_a))) == r_bytes


class Require:
    """What a reader requires (spec 7.5): trusted public keys (32 bytes each),
    a model name (bytes), a minimum version."""

    def __init__(self, signers=(), name=None, min_version=None):
        self.signers, self.name, self.min_version = list(signers), name, min_version

    def check(self, keyed):
        """Caller errors, refused before the file is read (outcome `other`,
        spec 7.4 and 7.5): a key that cannot be trusted, and a name or a
        minimum version that nothing authenticates."""
        if not all(public_key_ok(pk) for pk in self.signers):
            raise Failure("other")
        if not keyed and not self.signers and (self.name is not None
                                               or self.min_version is not None):
            raise Failure("other")


NOTHING = Require()


def signer_id(pk):
    return hashlib.sha256(b"AVA3-v2-signer" + pk).digest()[:16]


def signed_message(header, trailer, tags):
    return (b"AVA3-v2-signature" + header + trailer
            + hashlib.sha256(b"".join(tags)).digest())


def parse_records(ext):
    """Spec 3.6: returns (name bytes or None, version or None). A record
    header cut short (fewer than 3 bytes left) is a header failure."""
    name = version = None
    last, pos = 0, 0
    while pos < len(ext):
        if len(ext) - pos < 3:
            raise Failure("header failure")
        typ = ext[pos]
        ln, = struct.unpack("<H", ext[pos + 1:pos + 3])
        value = ext[pos + 3:pos + 3 + ln]
        if len(value) < ln or typ <= last:
            raise Failure("header failure")
        last = typ
        if typ == 1:
            if not 1 <= ln <= 255:
                raise Failure("header failure")
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                raise Failure("header failure") from None
            name = value
        elif typ == 2:
            if ln != 8:
                raise Failure("header failure")
            version, = struct.unpack("<Q", value)
        else:
            raise Failure("header failure")
        pos += 3 + ln
    return name, version


def check_binding(require, name, version):
    """Spec 7.5 steps 1 and 2."""
    if require.name is not None and name != require.name:
        raise Failure("name mismatch")
    if require.min_version is not None and (version or 0) < require.min_version:
        raise Failure("rollback")


def check_signatures(require, section, message):
    """Spec 7.5 steps 4 and 5 over a parsed section [(id, sig)]: any one
    trusted key will do; every entry by a trusted key must verify; an
    entry by an untrusted id is ignored."""
    trusted = {signer_id(pk): pk for pk in require.signers}
    found = False
    for sid, sig in section:
        if sid in trusted:
            found = True
            if not ed25519_verify(trusted[sid], message, sig):
                raise Failure("bad signature")
    if not found:
        raise Failure("unknown signer")


def parse_section(raw, c):
    """Spec 3.5: the magic, and no signer id listed twice."""
    if raw[:8] != b"AVA3-SIG":
        raise Failure("bad signature")
    section = [(raw[8 + 80 * j:24 + 80 * j], raw[24 + 80 * j:88 + 80 * j]) for j in range(c)]
    if len({sid for sid, _ in section}) != c:
        raise Failure("bad signature")
    return section


class Failure(Exception):
    def __init__(self, outcome, block=None):
        super().__init__(outcome)
        self.outcome = outcome
        self.block = block


def hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def aes_ctr(key, iv, data):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def key_id(master):
    return hkdf(None, master, b"AVA3-v1 key-id", 16)


def subkeys(master, salt):
    return {name: hkdf(salt, master, b"AVA3-v1 " + name.encode(), 32)
            for name in ("enc", "mac", "scramble", "shuffle")}


def iv(index, domain):
    return struct.pack(">QII", index, domain, 0)


class Prg:
    def __init__(self, key, iv16):
        self.enc = Cipher(algorithms.AES(key), modes.CTR(iv16)).encryptor()
        self.buf = b""

    def next_u32(self):
        if len(self.buf) < 4:
            self.buf += self.enc.update(bytes(4096))
        x = struct.unpack("<I", self.buf[:4])[0]
        self.buf = self.buf[4:]
        return x

    def uniform(self, n):
        zone = 2**32 - (2**32 % n)
        while True:
            x = self.next_u32()
            if x < zone:
                return x % n


def permutation(k_shuffle, length):
    prg = Prg(k_shuffle, struct.pack(">Q", length) + bytes(8))
    m, t = divmod(length, 16)
    sigma = list(range(m))
    for j in range(m - 1, 0, -1):
        r = prg.uniform(j + 1)
        sigma[j], sigma[r] = sigma[r], sigma[j]
    rho = [prg.uniform(16) for _ in range(m)]
    tau = prg.uniform(t) if t >= 2 else 0
    return sigma, rho, tau


def shuffle(perm, x):
    sigma, rho, tau = perm
    m = len(sigma)
    out = bytearray()
    for j in range(m):
        u = x[16 * sigma[j]:16 * sigma[j] + 16]
        out += u[rho[j]:] + u[:rho[j]]
    tail = x[16 * m:]
    t = len(tail)
    if t:
        out += tail[tau % t:] + tail[:tau % t]
    return bytes(out)


def unshuffle(perm, y):
    sigma, rho, tau = perm
    m = len(sigma)
    x = bytearray(len(y))
    for j in range(m):
        u = y[16 * j:16 * j + 16]
        r = (16 - rho[j]) % 16
        x[16 * sigma[j]:16 * sigma[j] + 16] = u[r:] + u[:r]
    tail = y[16 * m:]
    t = len(tail)
    if t:
        r = (t - tau % t) % t
        x[16 * m:] = tail[r:] + tail[:r]
    return bytes(x)


def xor(data, pad):
    n = len(data)
    if n == 0:
        return b""
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad[:n], "little")).to_bytes(n, "little")


def mac(k, *parts):
    return hmac.new(k, b"".join(parts), hashlib.sha256).digest()


class File:
    """Per-file state once the header is known."""

    def __init__(self, master, salt, bs, plen):
        self.k = subkeys(master, salt)
        self.bs, self.plen = bs, plen
        self.n = max(1, -(-plen // bs))
        self.pad = aes_ctr(self.k["scramble"], bytes(16), bytes(bs))
        self.perms = {}

    def block_len(self, i):
        return self.bs if i < self.n - 1 else self.plen - (self.n - 1) * self.bs

    def perm(self, length):
        if length not in self.perms:
            self.perms[length] = permutation(self.k["shuffle"], length)
        return self.perms[length]

    def tag(self, i, leaf):
        final = b"\x01" if i == self.n - 1 else b"\x00"
        return mac(self.k["mac"], b"AVA3-v1-block", struct.pack(">Q", i), final, leaf)

    def seal(self, i, pt):
        z = aes_ctr(self.k["enc"], iv(i, 0), pt)
        stored = xor(shuffle(self.perm(len(z)), z) if z else b"", self.pad)
        leaf = hashlib.sha256(stored).digest()
        return stored, leaf, self.tag(i, leaf)

    def open(self, i, stored, tag):
        leaf = hashlib.sha256(stored).digest()
        if not hmac.compare_digest(self.tag(i, leaf), tag):
            raise Failure("block failure", i)
        y = xor(stored, self.pad)
        z = unshuffle(self.perm(len(y)), y) if y else b""
        return aes_ctr(self.k["enc"], iv(i, 0), z), leaf


def encode(master, plaintext, salt, bs=65536, kind=0, name=None, version=None, signers=()):
    """Spec 8.1. `signers` are 32-byte Ed25519 secrets (seeds), `name` bytes."""
    ids = [signer_id(Ed25519PrivateKey.from_private_bytes(sd).public_key().public_bytes_raw())
           for sd in signers]
    if len(set(ids)) != len(ids) or len(ids) > 16:
        raise ValueError("at most 16 signing keys, each once")
    plen = len(plaintext)
    f = File(master, salt, bs, plen)
    v2 = name is not None or version is not None or bool(signers)
    ext = b""
    if name is not None:
        ext += b"\x01" + struct.pack("<H", len(name)) + name
    if version is not None:
        ext += b"\x02" + struct.pack("<HQ", 8, version)
    head = (MAGIC + struct.pack("<HHIIB", 2 if v2 else 1, 128 + len(ext), 0, bs, kind)
            + bytes([len(signers)]) + bytes(2)
            + struct.pack("<Q", plen) + salt + key_id(master) + bytes(16))
    header = head + mac(f.k["mac"], b"AVA3-v1-header", head, ext) + ext
    out = bytearray(header)
    keyless = hashlib.sha256(b"AVA3-v1-keyless" + header)
    tags = []
    for i in range(f.n):
        stored, leaf, tag = f.seal(i, plaintext[i * bs:i * bs + f.block_len(i)])
        out += stored + tag
        keyless.update(leaf + tag)
        tags.append(tag)
    enc_d = aes_ctr(f.k["enc"], iv(0, 1), hashlib.sha256(plaintext).digest())
    t = b"AVA3-END" + struct.pack("<QQ", f.n, plen) + enc_d
    t += mac(f.k["mac"], b"AVA3-v1-trailer", header[96:128], t)
    keyless.update(t)
    t += keyless.digest()
    out += t
    if signers:
        m = signed_message(header, t, tags)
        out += b"AVA3-SIG"
        for seed in signers:
            sk = Ed25519PrivateKey.from_private_bytes(seed)
            pk = sk.public_key().public_bytes_raw()
            out += signer_id(pk) + sk.sign(m)
    return bytes(out)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n):
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out


def read_header(r):
    """Spec 7.1 steps 1-4. Returns (header bytes, fields dict)."""
    h = r.read(128)
    if not h or h[:min(8, len(h))] != MAGIC[:min(8, len(h))]:
        raise Failure("not ava3")
    if len(h) < 10:
        raise Failure("truncated")
    version, = struct.unpack("<H", h[8:10])
    if version not in (1, 2):
        raise Failure("unsupported version")
    if len(h) < 128:
        raise Failure("truncated")
    hlen, flags, bs, kind = struct.unpack("<HIIB", h[10:21])
    if hlen != 128 if version == 1 else not 128 <= hlen <= MAX_HEADER_LEN:
        raise Failure("header failure")
    h += r.read(hlen - 128)
    if len(h) < hlen:
        raise Failure("truncated")
    c = h[21] if version == 2 else 0
    reserved = h[22:24] if version == 2 else h[21:24]
    plen, = struct.unpack("<Q", h[24:32])
    if flags != 0 or any(reserved) or any(h[80:96]):
        raise Failure("header failure")
    if bs & (bs - 1) or not 4096 <= bs <= 1 << 24 or kind > 3 or c > 16:
        raise Failure("header failure")
    n = max(1, -(-plen // bs))
    s = 8 + 80 * c if c else 0
    if hlen + plen + 32 * n + 120 + s > MAX_FILE:
        raise Failure("header failure")
    name, mversion = parse_records(h[128:hlen])
    if version == 2 and name is None and mversion is None and c == 0:
        raise Failure("header failure")
    return h, dict(bs=bs, plen=plen, n=n, c=c, s=s, name=name, version=mversion,
                   hlen=hlen, size=hlen + plen + 32 * n + 120 + s)


def read_end(r, h, hd, tags, keyless, require, f=None):
    """Spec 7.3 steps 1-5 (the trailer MAC and D only with the file state f)."""
    n, plen = hd["n"], hd["plen"]
    t = r.read(120)
    if len(t) < 120:
        raise Failure("truncated")
    if t[:8] != b"AVA3-END" or struct.unpack("<QQ", t[8:24]) != (n, plen):
        raise Failure("trailer failure")
    digest = None
    if f is not None:
        if not hmac.compare_digest(mac(f.k["mac"], b"AVA3-v1-trailer", h[96:128], t[:56]),
                                   t[56:88]):
            raise Failure("trailer failure")
        digest = aes_ctr(f.k["enc"], iv(0, 1), t[24:56])
    keyless.update(t[:88])
    if not hmac.compare_digest(keyless.digest(), t[88:]):
        raise Failure("integrity failure")
    if hd["c"]:
        raw = r.read(hd["s"])
        if len(raw) < hd["s"]:
            raise Failure("truncated")
        section = parse_section(raw, hd["c"])
        if require.signers:
            check_signatures(require, section, signed_message(h, t, tags))
    if r.read(1):
        raise Failure("trailing data")
    return digest


def block_len(hd, i):
    return hd["bs"] if i < hd["n"] - 1 else hd["plen"] - (hd["n"] - 1) * hd["bs"]


def check_signature_first(data, h, hd, f, require):
    """Spec 8.3 steps 2-4, what a reader does before it releases plaintext
    under a signature requirement (7.3, 8.2): the length, the trailer and
    its MAC, the signature section, and the signatures over every tag."""
    if len(data) < hd["size"]:
        raise Failure("truncated")
    if len(data) > hd["size"]:
        raise Failure("trailing data")
    tpos = hd["size"] - hd["s"] - 120
    t = data[tpos:tpos + 120]
    if t[:8] != b"AVA3-END" or struct.unpack("<QQ", t[8:24]) != (hd["n"], hd["plen"]):
        raise Failure("trailer failure")
    if not hmac.compare_digest(mac(f.k["mac"], b"AVA3-v1-trailer", h[96:128], t[:56]), t[56:88]):
        raise Failure("trailer failure")
    section = parse_section(data[tpos + 120:], hd["c"])
    tags, pos = [], hd["hlen"]
    for i in range(hd["n"]):
        pos += block_len(hd, i) + 32
        tags.append(data[pos - 32:pos])
    check_signatures(require, section, signed_message(h, t, tags))


def decode(data, keys, release, require=NOTHING):
    """Streaming decode per spec section 7. Calls release(bytes) for each
    authenticated block; returns D or raises Failure. Under a signature
    requirement the signature is checked first (spec 7.3, 8.2: the input,
    in memory, can seek)."""
    require.check(keyed=True)
    r = Reader(data)
    h, hd = read_header(r)
    bs, plen, n = hd["bs"], hd["plen"], hd["n"]
    master = next((k for k in keys if key_id(k) == h[64:80]), None)
    if master is None:
        raise Failure("wrong key")
    f = File(master, h[32:64], bs, plen)
    if not hmac.compare_digest(mac(f.k["mac"], b"AVA3-v1-header", h[:96], h[128:]),
                               h[96:128]):
        raise Failure("header failure")
    check_binding(require, hd["name"], hd["version"])
    if require.signers and hd["c"] == 0:
        raise Failure("unsigned")
    if require.signers:
        check_signature_first(data, h, hd, f, require)
    keyless = hashlib.sha256(b"AVA3-v1-keyless" + h)
    tags = []
    for i in range(n):
        want = f.block_len(i) + 32
        b = r.read(want)
        if len(b) < want:
            raise Failure("truncated")
        pt, leaf = f.open(i, b[:-32], b[-32:])
        keyless.update(leaf + b[-32:])
        tags.append(b[-32:])
        release(pt)
    return read_end(r, h, hd, tags, keyless, require, f)


def verify_signed(data, require):
    """Signed verification with public keys only (spec 7.5), in the order
    of spec 7.6: the requirements right after the header (they can only
    refuse here; the signature over that header is checked last)."""
    require.check(keyed=False)
    assert require.signers
    r = Reader(data)
    h, hd = read_header(r)
    check_binding(require, hd["name"], hd["version"])
    if hd["c"] == 0:
        raise Failure("unsigned")
    keyless = hashlib.sha256(b"AVA3-v1-keyless" + h)
    tags = []
    plen, bs = hd["plen"], hd["bs"]
    for i in range(hd["n"]):
        want = (bs if i < hd["n"] - 1 else plen - (hd["n"] - 1) * bs) + 32
        b = r.read(want)
        if len(b) < want:
            raise Failure("truncated")
        keyless.update(hashlib.sha256(b[:-32]).digest() + b[-32:])
        tags.append(b[-32:])
    read_end(r, h, hd, tags, keyless, require)


def signature_parts(data):
    """(M, [(signer id, signature)]) of a well-formed signed file: what an
    outside Ed25519 tool verifies (spec 5.6)."""
    r = Reader(data)
    h, hd = read_header(r)
    tags = []
    for i in range(hd["n"]):
        ln = hd["bs"] if i < hd["n"] - 1 else hd["plen"] - (hd["n"] - 1) * hd["bs"]
        tags.append(r.read(ln + 32)[-32:])
    t = r.read(120)
    return signed_message(h, t, tags), parse_section(r.read(hd["s"]), hd["c"])


# ---- release manifest and its signature (spec appendix E) ----

MANIFEST_LABEL = b"AVA3-manifest-v1\x00"


def manifest_message(manifest):
    return MANIFEST_LABEL + manifest


def verify_labelled(label, document, signatures, trusted):
    """Appendix E.2 (and E.4): `signatures` (k >= 1 times 64 bytes) over
    `label || document` (the bytes the caller then parses, read once) under
    the trusted keys. Returns the signer id of the first trusted key some
    signature verifies under."""
    if not trusted or not all(public_key_ok(pk) for pk in trusted):
        raise Failure("other")
    if not signatures:
        raise Failure("unsigned")
    if len(signatures) % 64:
        raise Failure("bad signature")
    message = label + document
    for j in range(0, len(signatures), 64):
        for pk in trusted:
            if ed25519_verify(pk, message, signatures[j:j + 64]):
                return signer_id(pk)
    raise Failure("unknown signer")


def verify_manifest(manifest, signatures, trusted):
    """Appendix E.2: a release manifest's signature file."""
    return verify_labelled(MANIFEST_LABEL, manifest, signatures, trusted)


CHECKSUMS_LABEL = b"AVA3-checksums-v1\x00"


def verify_checksums(listing, signatures, trusted):
    """Appendix E.4: a release's SHA256SUMS.sig, built as a manifest's (E.2)
    under its own label."""
    return verify_labelled(CHECKSUMS_LABEL, listing, signatures, trusted)


def parse_checksums(listing):
    """Appendix E.4: [(sha256 bytes, path)], or ValueError for a list a
    checker refuses whole (empty, a line not 64 hex digits, a space, a space
    or `*`, a path; a CR; no final LF; a path twice; a path E.3 refuses
    even signed, or a `..`)."""
    text = listing.decode("utf-8")
    if not text or not text.endswith("\n") or "\r" in text:
        raise ValueError("not LF-terminated lines")
    out, seen = [], set()
    for line in text[:-1].split("\n"):
        if len(line) < 67 or line[64] != " " or line[65] not in " *":
            raise ValueError(f"bad line {line!r}")
        digest = bytes.fromhex(line[:64])
        path = line[66:]
        if path in seen or not manifest_path_ok(path, signed=False):
            raise ValueError(f"bad path {path!r}")
        seen.add(path)
        out.append((digest, path))
    return out


def manifest_path_ok(path, signed):
    """Appendix E: an `output` path a reader may open. Relative,
    `/`-separated, no empty or `.` component, no backslash or NUL, no drive
    letter; `..` only in a manifest whose signature verified."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    if len(path) >= 2 and path[1] == ":":
        return False
    for part in path.split("/"):
        if part in ("", "."):
            return False
        if part == ".." and not signed:
            return False
    return True
