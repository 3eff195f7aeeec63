// Drives every public method of the shipped Android class
// com.ava.ava3.Ava3Model (the .aar's classes.jar) and its JNI glue as an app
// would (System.loadLibrary), on files the ava3 CLI encoded (run.sh makes
// them): open with and without requirements, every refused requirement,
// wrong keys, the header fields and the authenticated metadata, readAt and
// decodeTo into direct ByteBuffers and memfd through /proc/self/fd, each
// compared by SHA-256 with the plaintext, a tampered block, a model at an
// offset in a descriptor (as in an APK), threads, close. Run by
// examples/android/test/run.sh, from tests/device.sh (the .aar's own x86_64
// libraries) and examples/check.sh (the host build):
//   java --add-opens java.base/java.io=ALL-UNNAMED -cp CLASSES:WORK Ava3Smoke WORK KEYHEX KEYID OFFSET LABEL
import com.ava.ava3.Ava3Exception;
import com.ava.ava3.Ava3Model;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;

public class Ava3Smoke {
    static int passed;
    static String dir;
    static byte[] key;
    static byte[] plain;
    static byte[] plainSha;

    interface Body {
        void run() throws Exception;
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
        passed++;
    }

    static <T extends Throwable> T expect(Class<T> type, String what, Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                passed++;
                return type.cast(t);
            }
            throw new AssertionError(what + ": threw " + t, t);
        }
        throw new AssertionError(what + ": no " + type.getSimpleName());
    }

    /** open() refused with {@code code}; the key array wiped anyway. */
    static void refused(int code, String what, String file, byte[] k, Ava3Model.Requirements req) throws Exception {
        Ava3Exception e = expect(Ava3Exception.class, what, () -> Ava3Model.open(path(file), k, req).close());
        check(e.code() == code, what + ": code " + e.code() + " (" + e.getMessage() + "), wanted " + code);
        check(allZero(k), what + ": key wiped");
    }

    static String path(String name) {
        return dir + File.separator + name;
    }

    static byte[] k() {
        return key.clone();
    }

    static boolean allZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    static boolean allZero(ByteBuffer b) {
        for (int i = 0; i < b.capacity(); i++) if (b.get(i) != 0) return false;
        return true;
    }

    static byte[] sha(ByteBuffer b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(b.duplicate());
        return md.digest();
    }

    static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x));
        return s.toString();
    }

    /** Reads the whole model with readAt in odd-sized pieces; its SHA-256. */
    static byte[] readAll(Ava3Model m, int piece) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocateDirect(piece);
        long off = 0;
        for (int n; ; off += n) {
            buf.clear();
            n = m.readAt(off, buf);
            if (n == 0) break;
            if (buf.position() != n) throw new AssertionError("readAt did not advance the position by the count");
            buf.flip();
            md.update(buf);
        }
        if (off != m.size()) throw new AssertionError("readAt read " + off + " bytes, not size()");
        return md.digest();
    }

    /** The model's contents through every reader: decodeTo, readAt, memfd. */
    static void contents(Ava3Model m, String what) throws Exception {
        long size = m.size();
        check(size == plain.length, what + ": size()");
        ByteBuffer whole = ByteBuffer.allocateDirect((int) size).order(ByteOrder.nativeOrder());
        m.decodeTo(whole);
        check(whole.position() == 0, what + ": decodeTo leaves the position");
        check(Arrays.equals(sha(whole), plainSha), what + ": decodeTo SHA-256");
        check(Arrays.equals(readAll(m, 10007), plainSha), what + ": readAt SHA-256");
        int fd = m.memfd();
        check(fd >= 0, what + ": memfd");
        byte[] viaFd = Files.readAllBytes(new File("/proc/self/fd/" + fd).toPath());
        check(Arrays.equals(MessageDigest.getInstance("SHA-256").digest(viaFd), plainSha),
              what + ": memfd read through /proc/self/fd, SHA-256");
        closeFd(fd);
    }

    /** The public methods a class declares, as "name(ParamType,...)", sorted. */
    static List<String> publicApi(Class<?> c) {
        List<String> out = new ArrayList<>();
        for (Method m : c.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()) continue;
            StringBuilder sig = new StringBuilder(m.getName()).append('(');
            Class<?>[] ps = m.getParameterTypes();
            for (int i = 0; i < ps.length; i++) sig.append(i > 0 ? "," : "").append(ps[i].getSimpleName());
            out.add(sig.append(')').toString());
        }
        Collections.sort(out);
        return out;
    }

    static Field fdField() throws Exception {
        Field f = FileDescriptor.class.getDeclaredField("fd");
        f.setAccessible(true); // --add-opens java.base/java.io=ALL-UNNAMED
        return f;
    }

    /** Closes a raw descriptor (on Android: ParcelFileDescriptor.adoptFd(fd).close()). */
    static void closeFd(int fd) throws Exception {
        FileDescriptor d = new FileDescriptor();
        fdField().setInt(d, fd);
        new FileInputStream(d).close();
    }

    public static void main(String[] a) throws Exception {
        dir = a[0];
        key = hex(a[1]);
        byte[] keyId = hex(a[2]);
        long containerOffset = Long.parseLong(a[3]);
        plain = Files.readAllBytes(new File(path("model.plain")).toPath());
        plainSha = MessageDigest.getInstance("SHA-256").digest(plain);
        String pem = new String(Files.readAllBytes(new File(path("signer.key.pub")).toPath()), StandardCharsets.US_ASCII);
        String otherPem = new String(Files.readAllBytes(new File(path("other.key.pub")).toPath()),
                                     StandardCharsets.US_ASCII);
        // The raw 32 bytes: the end of the SubjectPublicKeyInfo DER.
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").trim());
        byte[] raw = Arrays.copyOfRange(der, der.length - 32, der.length);

        // The public API this test drives, all of it: a method added to the
        // shipped classes fails here until it is tested (and listed).
        check(publicApi(Ava3Model.class).equals(Arrays.asList(
                "blockSize()", "close()", "decodeTo(ByteBuffer)", "failedBlock()", "keyId()", "memfd()",
                "modelName()", "modelVersion()", "open(String,byte[])", "open(String,byte[],Requirements)",
                "open(int,long,long,byte[],Requirements)", "payloadKind()", "plaintextSha256()",
                "readAt(long,ByteBuffer)", "signerId()", "size()", "version()")),
              "Ava3Model's public methods " + publicApi(Ava3Model.class));
        check(publicApi(Ava3Model.Requirements.class).equals(Arrays.asList(
                "requireMinVersion(long)", "requireName(String)", "trustSigner(String)", "trustSigner(byte[])")),
              "Requirements' public methods " + publicApi(Ava3Model.Requirements.class));
        check(publicApi(Ava3Exception.class).equals(Arrays.asList("code()")),
              "Ava3Exception's own public methods " + publicApi(Ava3Exception.class));

        check(Ava3Model.version().matches("\\d+\\.\\d+\\.\\d+"), "version() " + Ava3Model.version());

        // --- refused opens: Ava3Exception with the C code, key wiped ---
        byte[] wrong = k();
        wrong[0] ^= 1;
        refused(Ava3Exception.WRONG_KEY, "wrong key", "plain.ava3", wrong, null);
        refused(Ava3Exception.INVALID_PARAMETER, "16-byte key", "plain.ava3", new byte[16], null);
        Arrays.fill(wrong = new byte[100], (byte) 1);
        refused(Ava3Exception.INVALID_PARAMETER, "100-byte key", "plain.ava3", wrong, null);
        refused(Ava3Exception.IO, "missing file", "no-such-file.ava3", k(), null);
        refused(Ava3Exception.NOT_AVA3, "plaintext, not AVA3", "model.plain", k(), null);
        refused(Ava3Exception.UNSIGNED, "trusted signer, unsigned file", "named.ava3", k(),
                new Ava3Model.Requirements().trustSigner(pem));
        refused(Ava3Exception.UNKNOWN_SIGNER, "signed by an untrusted key", "signed.ava3", k(),
                new Ava3Model.Requirements().trustSigner(otherPem));
        refused(Ava3Exception.NAME_MISMATCH, "wrong name", "signed.ava3", k(),
                new Ava3Model.Requirements().trustSigner(pem).requireName("assistant-7b"));
        refused(Ava3Exception.NAME_MISMATCH, "name required, unsigned file", "plain.ava3", k(),
                new Ava3Model.Requirements().requireName("assistant-3b"));
        refused(Ava3Exception.ROLLBACK, "rollback", "signed.ava3", k(),
                new Ava3Model.Requirements().trustSigner(raw).requireMinVersion(8));
        refused(Ava3Exception.ROLLBACK, "rollback, unsigned file", "named.ava3", k(),
                new Ava3Model.Requirements().requireMinVersion(8));
        expect(IllegalArgumentException.class, "path with NUL", () -> Ava3Model.open(path("a\0b"), k()));
        expect(NullPointerException.class, "null key", () -> Ava3Model.open(path("plain.ava3"), null));

        // --- open(path, key): no requirements ---
        byte[] k1 = k();
        Ava3Model m = Ava3Model.open(path("plain.ava3"), k1);
        check(allZero(k1), "key wiped after a successful open");
        check(Arrays.equals(m.keyId(), keyId), "keyId() " + hex(m.keyId()));
        check(m.payloadKind() == Ava3Model.PAYLOAD_GGUF, "payloadKind() " + m.payloadKind());
        check(m.blockSize() == 65536, "blockSize() " + m.blockSize());
        check(m.modelName() == null, "modelName() null without a name");
        check(m.modelVersion() == 0, "modelVersion() 0 without a version");
        check(Arrays.equals(m.plaintextSha256(), plainSha), "plaintextSha256()");
        check(m.signerId() == null, "signerId() null when no signer was required");
        check(m.failedBlock() == -1, "failedBlock() -1");
        contents(m, "plain");

        // readAt: offsets, ends, buffers
        ByteBuffer b = ByteBuffer.allocateDirect(100);
        check(m.readAt(m.size() - 10, b) == 10 && b.position() == 10, "readAt near the end: a short count");
        b.clear();
        check(m.readAt(m.size(), b) == 0 && b.position() == 0, "readAt at the end: 0");
        check(m.readAt(m.size() + 5, b) == 0, "readAt past the end: 0");
        b.position(30).limit(70);
        check(m.readAt(1000, b) == 40 && b.position() == 70, "readAt fills position..limit");
        byte[] got = new byte[40];
        b.position(30);
        b.get(got);
        check(Arrays.equals(got, Arrays.copyOfRange(plain, 1000, 1040)), "readAt bytes at an offset");
        b.clear();
        check(m.readAt(0, b.limit(0)) == 0, "readAt into an empty buffer");
        expect(IllegalArgumentException.class, "readAt into a heap buffer", () -> m.readAt(0, ByteBuffer.allocate(10)));
        expect(ReadOnlyBufferException.class, "readAt into a read-only buffer",
               () -> m.readAt(0, ByteBuffer.allocateDirect(10).asReadOnlyBuffer()));
        expect(IllegalArgumentException.class, "readAt at a negative offset",
               () -> m.readAt(-1, ByteBuffer.allocateDirect(10)));

        // decodeTo: exact size only; position..limit
        Ava3Exception e = expect(Ava3Exception.class, "decodeTo into a buffer one byte too big",
                                 () -> m.decodeTo(ByteBuffer.allocateDirect(plain.length + 1)));
        check(e.code() == Ava3Exception.INVALID_PARAMETER, "decodeTo, wrong size: code " + e.code());
        expect(IllegalArgumentException.class, "decodeTo into a heap buffer",
               () -> m.decodeTo(ByteBuffer.allocate(plain.length)));
        ByteBuffer off = ByteBuffer.allocateDirect(plain.length + 8);
        off.position(8);
        m.decodeTo(off);
        check(off.position() == 8, "decodeTo at a position leaves it");
        check(Arrays.equals(sha(off), plainSha), "decodeTo at a position: SHA-256");

        // readAt from 8 threads at once
        AtomicReference<Throwable> fail = new AtomicReference<>();
        Thread[] ts = new Thread[8];
        for (int i = 0; i < ts.length; i++) {
            final int piece = 4093 + 1000 * i;
            ts[i] = new Thread(() -> {
                try {
                    if (!Arrays.equals(readAll(m, piece), plainSha)) throw new AssertionError("digest");
                } catch (Throwable t) {
                    fail.set(t);
                }
            });
            ts[i].start();
        }
        for (Thread t : ts) t.join();
        check(fail.get() == null, "readAt from 8 threads: " + fail.get());

        // close: twice is harmless; afterwards every method throws, nothing crashes
        m.close();
        m.close();
        passed++;
        expect(IllegalStateException.class, "size() after close", m::size);
        expect(IllegalStateException.class, "readAt after close", () -> m.readAt(0, ByteBuffer.allocateDirect(1)));
        expect(IllegalStateException.class, "decodeTo after close",
               () -> m.decodeTo(ByteBuffer.allocateDirect(plain.length)));
        expect(IllegalStateException.class, "memfd after close", m::memfd);
        expect(IllegalStateException.class, "modelName after close", m::modelName);
        expect(IllegalStateException.class, "signerId after close", m::signerId);

        // --- open(path, key, requirements): signer (PEM, hex, raw), name, minimum version ---
        Ava3Model.Requirements req = new Ava3Model.Requirements().trustSigner(pem).requireName("assistant-3b")
                .requireMinVersion(7);
        byte[] signerId;
        byte[] k2 = k();
        try (Ava3Model s = Ava3Model.open(path("signed.ava3"), k2, req)) {
            check(allZero(k2), "key wiped (requirements)");
            check("assistant-3b".equals(s.modelName()), "modelName() " + s.modelName());
            check(s.modelVersion() == 7, "modelVersion() " + s.modelVersion());
            check(s.blockSize() == 4096, "blockSize() 4096");
            check(Arrays.equals(s.keyId(), keyId), "keyId() of the signed file");
            check(Arrays.equals(s.plaintextSha256(), plainSha), "plaintextSha256() signed");
            signerId = s.signerId();
            check(signerId != null && signerId.length == 16, "signerId() 16 bytes");
            contents(s, "signed, with requirements");
        }
        String hexKey = hex(raw);
        for (Ava3Model.Requirements r : new Ava3Model.Requirements[] {
                new Ava3Model.Requirements().trustSigner(raw),
                new Ava3Model.Requirements().trustSigner(hexKey),
                new Ava3Model.Requirements().trustSigner(otherPem).trustSigner(pem).requireMinVersion(1)}) {
            try (Ava3Model s = Ava3Model.open(path("signed.ava3"), k(), r)) {
                check(Arrays.equals(s.signerId(), signerId), "the same signerId() from raw, hex and PEM keys");
            }
        }
        req.requireName("changed after open"); // open copied it: no effect on later use of the earlier model
        try (Ava3Model s = Ava3Model.open(path("signed.ava3"), k())) {
            check(s.signerId() == null && "assistant-3b".equals(s.modelName()) && s.modelVersion() == 7,
                  "signed file without requirements: metadata, no signerId");
        }
        try (Ava3Model s = Ava3Model.open(path("named.ava3"), k(),
                                          new Ava3Model.Requirements().requireName("assistant-3b").requireMinVersion(7))) {
            check(s.signerId() == null && "assistant-3b".equals(s.modelName()), "unsigned file, name and version met");
            contents(s, "unsigned, name and version required");
        }

        // --- a tampered block: key accepted, the block refused, buffers wiped ---
        try (Ava3Model t = Ava3Model.open(path("flipped.ava3"), k())) {
            ByteBuffer all = ByteBuffer.allocateDirect((int) t.size());
            e = expect(Ava3Exception.class, "decodeTo of a tampered file", () -> t.decodeTo(all));
            check(e.code() == Ava3Exception.BLOCK_FAILURE, "tampered: code " + e.code());
            check(allZero(all), "decodeTo wipes the buffer on failure");
            check(t.failedBlock() >= 0, "failedBlock() " + t.failedBlock());
            ByteBuffer part = ByteBuffer.allocateDirect((int) t.size());
            e = expect(Ava3Exception.class, "readAt across a tampered block", () -> t.readAt(0, part));
            check(e.code() == Ava3Exception.BLOCK_FAILURE && part.position() == 0 && allZero(part),
                  "readAt: nothing counted, buffer wiped");
            expect(Ava3Exception.class, "memfd of a tampered file", t::memfd);
        }

        // --- open(fd, offset, length, key, requirements): a model inside a bigger file ---
        File container = new File(path("container.bin"));
        long len = new File(path("plain.ava3")).length();
        try (FileInputStream in = new FileInputStream(container)) {
            int fd = fdField().getInt(in.getFD());
            byte[] k3 = k();
            e = expect(Ava3Exception.class, "open(fd) at a wrong offset",
                       () -> Ava3Model.open(fd, containerOffset + 1, len, k3, null));
            check(e.code() == Ava3Exception.NOT_AVA3 && allZero(k3), "open(fd) at a wrong offset: code " + e.code() + ", key wiped");
            Ava3Model c = Ava3Model.open(fd, containerOffset, len, k(), new Ava3Model.Requirements().requireMinVersion(0));
            in.close(); // the decoder holds its own duplicate
            try {
                check(Arrays.equals(c.plaintextSha256(), plainSha), "open(fd, offset, length): metadata");
                contents(c, "open(fd, offset, length), caller's fd closed");
            } finally {
                c.close();
            }
            expect(IllegalArgumentException.class, "open(fd) with a negative offset",
                   () -> Ava3Model.open(0, -1, len, k(), null));
        }

        System.out.println("jni (" + a[4] + "): " + passed + " passed, 0 failed");
    }
}
