// Drives the shipped Android class com.ava.ava3.Ava3Model (the .aar's
// classes.jar) and its JNI glue as an app would (System.loadLibrary):
// wrong key refused, key wiped, the model read back through the memfd with
// the right SHA-256. Run on the host JVM by examples/check.sh (glue built
// here) and by tests/device.sh (the .aar's own x86_64 libraries, with
// tests/device/bionic_shim.c preloaded):
//   java -cp CLASSES:. Ava3Smoke MODEL.ava3 KEYHEX EXPECTED_SHA256 LABEL
import com.ava.ava3.Ava3Model;
import java.io.FileInputStream;
import java.io.IOException;
import java.security.MessageDigest;

public class Ava3Smoke {
    public static void main(String[] a) throws Exception {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) Integer.parseInt(a[1].substring(2 * i, 2 * i + 2), 16);
        int passed = 0;
        try {
            Ava3Model.open(a[0], new byte[32]);
            throw new AssertionError("wrong key accepted");
        } catch (IOException e) {
            if (!e.getMessage().contains("wrong key")) throw e;
            passed++;
        }
        byte[] copy = key.clone();
        try (Ava3Model m = Ava3Model.open(a[0], copy)) {
            for (byte b : copy) if (b != 0) throw new AssertionError("key not wiped");
            passed++;
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
            passed++;
        }
        System.out.println("jni (" + a[3] + "): " + passed + " passed, 0 failed");
    }
}
