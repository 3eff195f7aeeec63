// The Java twin of Ava3Model.kt, to run the JNI glue here without Kotlin:
//   java -Djava.library.path=... Ava3Model MODEL.ava3 KEYHEX EXPECTED_SHA256
import java.io.FileInputStream;
import java.io.IOException;
import java.security.MessageDigest;

public class Ava3Model implements AutoCloseable {
    static { System.loadLibrary("ava3_decoder"); System.loadLibrary("ava3_jni"); }
    private long handle;
    private Ava3Model(long h) { handle = h; }
    public static Ava3Model open(String path, byte[] key) throws IOException {
        try { return new Ava3Model(nativeOpen(path, key)); } finally { java.util.Arrays.fill(key, (byte) 0); }
    }
    private static native long nativeOpen(String path, byte[] key) throws IOException;
    private static native long nativeSize(long h);
    private static native int nativeMemfd(long h);
    private static native void nativeFree(long h);
    public long size() { return nativeSize(handle); }
    public int memfd() { return nativeMemfd(handle); }
    public void close() { if (handle != 0) nativeFree(handle); handle = 0; }

    public static void main(String[] a) throws Exception {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) Integer.parseInt(a[1].substring(2 * i, 2 * i + 2), 16);
        byte[] wrong = new byte[32];
        try { Ava3Model.open(a[0], wrong); throw new AssertionError("wrong key accepted"); }
        catch (IOException e) { if (!e.getMessage().contains("wrong key")) throw e; }
        try (Ava3Model m = Ava3Model.open(a[0], key)) {
            int fd = m.memfd();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long total = 0;
            try (FileInputStream in = new FileInputStream("/proc/self/fd/" + fd)) {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0; total += n) sha.update(buf, 0, n);
            }
            StringBuilder hex = new StringBuilder();
            for (byte b : sha.digest()) hex.append(String.format("%02x", b));
            if (total != m.size() || !hex.toString().equals(a[2])) throw new AssertionError("digest " + hex);
            System.out.println("jni: 1 passed, 0 failed (" + total + " bytes through the memfd)");
        }
    }
}
