// MLC-LLM / TVM, native: load AVA3-protected weight shards without plaintext
// files. C++ twin of ava3_tensor_cache.py (the reference); tested by
// tests/runtimes/test_mlc_native.py against the apache-tvm 0.27 wheel.
//
// What it replaces: the TVM global `vm.builtin.tensor_cache.load(cache_path:
// str, device_type: int, device_id: int) -> None` (TensorCache::Load in
// apache/tvm src/runtime/vm/tensor_cache_support.cc, identical in v0.26.0,
// v0.27.dev0 and main 5d4dc87). MLC-LLM's FunctionTable::LoadParams calls it
// once (it keeps the function in a `static` on the first load), then reads the
// cache with `vm.builtin.param_array_from_cache[_by_name]` and clears it with
// `vm.builtin.tensor_cache.clear`. Those companions are left untouched.
//
// The override reads tensor-cache.json (plain, field by field as TVM's
// TensorCacheMetadata::Load does), opens each shard `dataPath` as
// `dataPath + ".ava3"` (a file name in the cache folder, nothing else),
// checks its authenticated plaintext size against the shard's `nbytes`, and
// checks each record's size against its shape and dtype (TVM's rule,
// sub-byte types packed) before allocating. On the CPU it allocates every
// tensor and decrypts its byte range with ava3_decoder_read_at straight into
// the tensor's memory (no shard copy; up to 4 threads over 8 MiB pieces of
// all records). On another device it does the same one shard at a time,
// copies that shard's tensors to the device and wipes them, so the host
// holds one shard's plaintext at a time. "f32-to-bf16" records are read
// into the upper half of the float32 tensor and widened in place, as TVM
// does. Only when every shard and record succeeded are the tensors handed
// to `vm.builtin.tensor_cache.update(name, tensor, true)`, as TVM's loader
// does; on any failure nothing is added, the decrypted memory is wiped, and
// a ValueError names the shard and the ava3 result code (never the key).
//
// What is authenticated: every byte read from a shard (its blocks, under
// the key). What is not: tensor-cache.json, which says which bytes are
// which tensor. Someone who can change the app's files can swap records of
// the same shape and dtype, or point one at another shard of the same
// model, without any read failing; the shards' own names and versions are
// not required here. Ship tensor-cache.json where the app's code is (inside
// the signed APK or app bundle), not beside downloaded shards, or check its
// digest before loading. The Python reference loader has the same limit.
//
// Only tvm-ffi headers are used: the wheel's tvm/runtime/tensor.h includes
// tvm/support/io.h, which apache-tvm 0.27.0.post1 does not ship. TVM runtime
// functions are reached through the registry: runtime.TVMTensorAllocWithScope
// (Tensor::Empty), runtime.TVMTensorCopyFromTo, runtime.Device_StreamSync.
//
// API (C linkage):
//   int ava3_mlc_register(const uint8_t key[32]);  // 0, or -1 (NULL key), -2 (TVM refused)
//   int ava3_mlc_unregister(void);                 // restores TVM's loader, wipes the key
// Call ava3_mlc_register with the key from the platform key store (Android
// Keystore, iOS Keychain) before the engine's first model load; calling it
// again replaces the key. The library must share the TVM runtime (the FFI
// global registry) that MLC uses: never link a second copy of TVM into it.
//
// Build (Linux host, as the test does; $SP = the venv's site-packages):
//   g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden ava3_tensor_cache.cc
//     -I$SP/tvm_ffi/include -I<repo>/ava3-decoder-ffi/include
//     -L$SP/tvm/lib -L$SP/tvm_ffi/lib -L<repo>/target/release
//     -Wl,--no-as-needed -ltvm_runtime -ltvm_ffi -lava3_decoder -lpthread
//     -o libava3_mlc.so
// No -D flags are needed. It imports only tvm-ffi's C ABI (TVMFFI*) and
// tvm::ffi::json::Parse; libtvm_runtime is linked so its globals exist.
//
// Android (mlc4j): add this file to the sources of mlc4j's
// tvm4j_runtime_packed target (which holds TVM's runtime and tvm-ffi) and
// link the .aar's libava3_decoder.so into it; or build it as a separate
// library linked against libtvm4j_runtime_packed.so if that exports the
// symbols above. In the app's JNI library (linked against the library that
// holds the function), call ava3_mlc_register from a native method the app
// calls after System.loadLibrary("tvm4j_runtime_packed") and before
// MLCEngine.reload(); not from JNI_OnLoad, because the key comes from
// Android Keystore at run time:
//   extern "C" JNIEXPORT jint JNICALL
//   Java_com_example_Ava3Mlc_register(JNIEnv* env, jclass, jbyteArray k) {
//     if (env->GetArrayLength(k) != 32) return -1;
//     uint8_t key[32]; env->GetByteArrayRegion(k, 0, 32, reinterpret_cast<jbyte*>(key));
//     int rc = ava3_mlc_register(key);
//     /* wipe key[] (volatile loop) */ return rc; }
//
// iOS (MLCSwift): compile this file into the app (statically, next to the
// libtvm_runtime.a / libmlc_llm.a that MLCSwift links, with the tvm-ffi
// include path), link ava3.xcframework, declare
// `int ava3_mlc_register(const uint8_t *key);` in the bridging header and
// call it with the Keychain key before `MLCEngine.reload(modelPath:modelLib:)`:
//   key.withUnsafeBytes { _ = ava3_mlc_register($0.bindMemory(to: UInt8.self).baseAddress) }
// Static linking keeps one TVM registry.
//
// Not covered: MLC's multi-GPU (disco) path, which loads through
// `mlc.multi_gpu.LoadMultiGPU[Presharded]` instead.

#include <ava3.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/container/shape.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/extra/json.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <string>
#include <thread>
#include <vector>

#define AVA3_MLC_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

namespace ffi = tvm::ffi;
namespace json = ffi::json;
using ffi::Tensor;

constexpr const char* kLoadName = "vm.builtin.tensor_cache.load";
constexpr size_t kPiece = 8u << 20;  // bytes per read job
constexpr unsigned kMaxThreads = 4;

std::mutex g_mu;
uint8_t g_key[32];
bool g_has_key = false;
// Heap-held and never freed: no destructor runs against TVM's registry at exit.
ffi::Function* g_previous = nullptr;

void Wipe(void* p, size_t n) {
  volatile uint8_t* v = static_cast<volatile uint8_t*>(p);
  while (n--) *v++ = 0;
}

struct KeyCopy {
  uint8_t bytes[32];
  ~KeyCopy() { Wipe(bytes, sizeof bytes); }
};

struct DecoderFree {
  void operator()(Ava3Decoder* d) const { ava3_decoder_free(d); }
};
using DecoderPtr = std::unique_ptr<Ava3Decoder, DecoderFree>;

// tensor-cache.json, read field by field as TVM's TensorCacheMetadata does.
struct ParamRecord {
  std::string name;
  ffi::Shape shape;
  DLDataType dtype;
  std::string format;
  int64_t nbytes;
  int64_t byte_offset;
};
struct FileRecord {
  std::string data_path;
  std::string format;
  int64_t nbytes;
  std::vector<ParamRecord> records;
};

ffi::Any Field(const json::Object& o, const char* key) {
  auto it = o.find(ffi::String(key));
  if (it == o.end()) TVM_FFI_THROW(ValueError) << "tensor-cache.json: missing field " << key;
  return (*it).second;
}

std::vector<FileRecord> ParseCache(const std::string& text) {
  ffi::String err;
  json::Value root = json::Parse(text, &err);
  if (!err.empty()) TVM_FFI_THROW(ValueError) << "tensor-cache.json: " << err;
  std::vector<FileRecord> out;
  for (const ffi::Any& s : Field(root.cast<json::Object>(), "records").cast<json::Array>()) {
    const json::Object shard = s.cast<json::Object>();
    FileRecord f;
    f.data_path = Field(shard, "dataPath").cast<ffi::String>();
    f.format = Field(shard, "format").cast<ffi::String>();
    f.nbytes = Field(shard, "nbytes").cast<int64_t>();
    for (const ffi::Any& r : Field(shard, "records").cast<json::Array>()) {
      const json::Object rec = r.cast<json::Object>();
      std::vector<int64_t> shape;
      for (const ffi::Any& d : Field(rec, "shape").cast<json::Array>())
        shape.push_back(d.cast<int64_t>());
      ParamRecord p;
      p.name = Field(rec, "name").cast<ffi::String>();
      p.shape = ffi::Shape(std::move(shape));
      p.dtype = ffi::StringToDLDataType(Field(rec, "dtype").cast<ffi::String>());
      p.format = Field(rec, "format").cast<ffi::String>();
      p.nbytes = Field(rec, "nbytes").cast<int64_t>();
      p.byte_offset = Field(rec, "byteOffset").cast<int64_t>();
      f.records.push_back(std::move(p));
    }
    out.push_back(std::move(f));
  }
  return out;
}

[[noreturn]] void Fail(const std::string& shard, uint32_t rc) {
  char msg[160];
  ava3_result_message(rc, msg, sizeof msg);
  TVM_FFI_THROW(ValueError) << "Error when loading parameters from " << shard << ": ava3 result "
                            << rc << " (" << msg << ")";
  __builtin_unreachable();  // ErrorBuilder throws at the end of the statement
}

size_t TensorBytes(const Tensor& t) {
  return ffi::GetDataSize(static_cast<size_t>(t.numel()), t.dtype());
}

// The bytes a record's tensor takes (TVM's own rule, sub-byte types packed),
// from the shape and dtype of tensor-cache.json, which is not authenticated:
// false for a negative dimension or a size that overflows, before anything
// is allocated.
bool RecordBytes(const ParamRecord& r, size_t* out) {
  uint64_t numel = 1;
  for (int64_t d : r.shape) {
    if (d < 0 || (d != 0 && numel > UINT64_MAX / static_cast<uint64_t>(d))) return false;
    numel *= static_cast<uint64_t>(d);
  }
  const uint64_t bits = static_cast<uint64_t>(r.dtype.bits) * r.dtype.lanes;
  if (bits == 0 || numel > (UINT64_MAX - 7) / bits) return false;
  *out = static_cast<size_t>((numel * bits + 7) / 8);
  return true;
}

// A shard's dataPath names a file in the cache folder itself: no folder
// part, no "..", so a changed tensor-cache.json cannot point at another
// model's shards elsewhere.
bool PlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

struct Job {
  size_t shard;
  uint64_t offset;
  uint8_t* dst;
  size_t len;
};

void Load(const ffi::String& cache_path, int device_type, int device_id) {
  KeyCopy key;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_has_key) TVM_FFI_THROW(ValueError) << "ava3: no key registered (ava3_mlc_register)";
    std::memcpy(key.bytes, g_key, sizeof key.bytes);
  }
  const std::string dir(cache_path);
  std::string json;
  {
    std::ifstream in(dir + "/tensor-cache.json", std::ios::binary);
    if (!in) TVM_FFI_THROW(ValueError) << "Cannot open " << dir << "/tensor-cache.json";
    std::ostringstream ss;
    ss << in.rdbuf();
    json = ss.str();
  }
  const std::vector<FileRecord> meta = ParseCache(json);
  const DLDevice cpu{kDLCPU, 0};
  // Tensor::Empty of TVM's runtime, through the registry.
  static const ffi::Function empty =
      ffi::Function::GetGlobalRequired("runtime.TVMTensorAllocWithScope");
  const DLDevice device{static_cast<DLDeviceType>(device_type), device_id};

  // Every shard is opened and unlocked first: a wrong key or a bad header
  // fails the load before anything is allocated.
  std::vector<DecoderPtr> decoders;
  std::vector<std::string> names;
  for (const FileRecord& shard : meta) {
    if (!PlainFileName(shard.data_path))
      TVM_FFI_THROW(ValueError) << "tensor-cache.json: dataPath " << shard.data_path
                                << " is not a file name in the cache folder";
    if (shard.format != "raw-shard")
      TVM_FFI_THROW(ValueError) << shard.data_path << ": only `raw-shard` format is supported";
    const std::string name = shard.data_path + ".ava3";
    names.push_back(name);
    Ava3Decoder* raw = nullptr;
    uint32_t rc = ava3_decoder_open_path((dir + "/" + name).c_str(), &raw);
    if (rc != AVA3_RESULT_OK) Fail(name, rc);
    decoders.emplace_back(raw);
    rc = ava3_decoder_set_key(raw, key.bytes, sizeof key.bytes);
    if (rc != AVA3_RESULT_OK) Fail(name, rc);
    uint64_t size = 0;
    rc = ava3_decoder_plaintext_size(raw, &size);
    if (rc != AVA3_RESULT_OK) Fail(name, rc);
    if (size != static_cast<uint64_t>(shard.nbytes))
      TVM_FFI_THROW(ValueError) << "Error when loading parameters from " << name << ": size "
                                << size << ", tensor-cache.json says " << shard.nbytes;
  }

  // The tensors to hand to the cache, one per record, in order. On the CPU
  // they are the host tensors the shards are decrypted into; on another
  // device, copies made shard by shard, so that the host holds one shard's
  // plaintext at a time (and wipes it), not the model's.
  const bool on_cpu = device.device_type == kDLCPU;
  std::vector<Tensor> final_tensors;
  std::vector<const ParamRecord*> recs;
  std::vector<Tensor> host;  // the plaintext in host memory now
  auto wipe_host = [&host]() {
    for (Tensor& t : host) Wipe(t.data_ptr(), TensorBytes(t));
  };
  try {
    // All shards at once on the CPU (one parallel read over every record),
    // one at a time otherwise.
    const size_t step = on_cpu ? meta.size() : 1;
    for (size_t first = 0; first < meta.size(); first += step) {
      const size_t last = std::min(meta.size(), first + step);
      std::vector<Job> jobs;
      std::vector<bool> widen;  // f32-to-bf16, per host tensor
      const size_t host_base = host.size();
      for (size_t s = first; s < last; ++s) {
        const FileRecord& shard = meta[s];
        for (const ParamRecord& r : shard.records) {
          const bool bf16 = r.format == "f32-to-bf16" && r.dtype.code == kDLFloat &&
                            r.dtype.bits == 32 && r.dtype.lanes == 1;
          const size_t nbytes = static_cast<size_t>(r.nbytes);
          size_t want = 0;
          if (!RecordBytes(r, &want) || r.nbytes < 0 || r.byte_offset < 0 ||
              r.byte_offset > shard.nbytes - r.nbytes || (bf16 ? nbytes * 2 : nbytes) != want)
            TVM_FFI_THROW(ValueError) << "Error when loading parameters from " << names[s]
                                      << ": record " << r.name << " does not fit (nbytes "
                                      << r.nbytes << ", byteOffset " << r.byte_offset << ")";
          Tensor t = empty(r.shape, r.dtype, cpu, ffi::Optional<ffi::String>()).cast<Tensor>();
          if (TensorBytes(t) != want)
            TVM_FFI_THROW(ValueError) << "Error when loading parameters from " << names[s]
                                      << ": record " << r.name << ": TVM allocated "
                                      << TensorBytes(t) << " bytes, not " << want;
          uint8_t* dst = static_cast<uint8_t*>(t.data_ptr()) + (bf16 ? nbytes : 0);
          for (size_t done = 0; done < nbytes; done += kPiece)
            jobs.push_back({s, static_cast<uint64_t>(r.byte_offset) + done, dst + done,
                            std::min(kPiece, nbytes - done)});
          host.push_back(std::move(t));
          recs.push_back(&r);
          widen.push_back(bf16);
        }
      }

      // Decrypt in parallel (read_at is thread-safe on one decoder).
      std::atomic<size_t> next{0};
      std::atomic<bool> failed{false};
      std::mutex err_mu;
      size_t err_shard = 0;
      uint32_t err_rc = AVA3_RESULT_OK;
      auto work = [&]() {
        for (size_t i; !failed.load() && (i = next.fetch_add(1)) < jobs.size();) {
          const Job& j = jobs[i];
          size_t got = 0;
          uint32_t rc = ava3_decoder_read_at(decoders[j.shard].get(), j.offset, j.dst, j.len, &got);
          if (rc == AVA3_RESULT_OK && got != j.len) rc = AVA3_RESULT_TRUNCATED;
          if (rc != AVA3_RESULT_OK) {
            std::lock_guard<std::mutex> lock(err_mu);
            if (!failed.exchange(true)) {
              err_shard = j.shard;
              err_rc = rc;
            }
          }
        }
      };
      const unsigned n = std::max(
          1u, std::min({std::thread::hardware_concurrency(), kMaxThreads,
                        static_cast<unsigned>(std::min<size_t>(jobs.size(), 64))}));
      std::vector<std::thread> pool;
      for (unsigned i = 1; i < n; ++i) {
        try {
          pool.emplace_back(work);
        } catch (const std::system_error&) {
          break;  // fewer threads: this one and those started do the work
        }
      }
      work();
      for (std::thread& t : pool) t.join();
      if (failed.load()) Fail(names[err_shard], err_rc);

      // bf16 -> f32 in place: element i is read (upper half) before word i is written.
      for (size_t k = host_base; k < host.size(); ++k) {
        if (!widen[k - host_base]) continue;
        uint8_t* base = static_cast<uint8_t*>(host[k].data_ptr());
        const size_t count = static_cast<size_t>(recs[k]->nbytes) / 2;
        for (size_t i = 0; i < count; ++i) {
          uint16_t h;
          std::memcpy(&h, base + count * 2 + i * 2, 2);
          const uint32_t w = static_cast<uint32_t>(h) << 16;
          std::memcpy(base + i * 4, &w, 4);
        }
      }

      if (on_cpu) continue;
      static const ffi::Function copy = ffi::Function::GetGlobalRequired("runtime.TVMTensorCopyFromTo");
      static const ffi::Function sync = ffi::Function::GetGlobalRequired("runtime.Device_StreamSync");
      for (size_t k = host_base; k < host.size(); ++k) {
        Tensor t = empty(recs[k]->shape, recs[k]->dtype, device, ffi::Optional<ffi::String>())
                       .cast<Tensor>();
        copy(host[k], t);
        final_tensors.push_back(std::move(t));
      }
      sync(device, int64_t{0});
      wipe_host();
      host.clear();
    }
  } catch (...) {
    wipe_host();
    throw;
  }
  decoders.clear();
  if (on_cpu) final_tensors = host;

  // Populate exactly as TVM's loader: update(name, tensor, override=true).
  // (If an update fails, the names added so far are removed; a name that
  // was in the cache before this load is then gone too, not restored.)
  static const ffi::Function update = ffi::Function::GetGlobalRequired("vm.builtin.tensor_cache.update");
  size_t added = 0;
  try {
    for (; added < recs.size(); ++added)
      update(ffi::String(recs[added]->name), final_tensors[added], true);
  } catch (...) {
    wipe_host();
    try {
      static const ffi::Function remove =
          ffi::Function::GetGlobalRequired("vm.builtin.tensor_cache.remove");
      for (size_t i = 0; i < added; ++i) remove(ffi::String(recs[i]->name));
    } catch (...) {
    }
    throw;
  }
}

}  // namespace

AVA3_MLC_EXPORT int ava3_mlc_register(const uint8_t key[32]) {
  if (key == nullptr) return -1;
  try {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_previous == nullptr) {
      std::optional<ffi::Function> prev = ffi::Function::GetGlobal(kLoadName);
      g_previous = new ffi::Function(prev ? *prev : ffi::Function());
      ffi::Function::SetGlobal(kLoadName, ffi::Function::FromTyped(Load), true);
    }
    std::memcpy(g_key, key, sizeof g_key);
    g_has_key = true;
    return 0;
  } catch (...) {
    return -2;
  }
}

AVA3_MLC_EXPORT int ava3_mlc_unregister(void) {
  try {
    std::lock_guard<std::mutex> lock(g_mu);
    Wipe(g_key, sizeof g_key);
    g_has_key = false;
    if (g_previous != nullptr) {
      if (g_previous->defined()) ffi::Function::SetGlobal(kLoadName, *g_previous, true);
      delete g_previous;
      g_previous = nullptr;
    }
    return 0;
  } catch (...) {
    return -2;
  }
}
