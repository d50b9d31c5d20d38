#include "args.h"

#include <algorithm>
#include <cmath>

namespace rbnapi {

namespace {

[[noreturn]] void throw_tagged(Napi::Error err, const char* code, const std::string& argument) {
  tag_error(err, code, argument);
  throw err;
}

template <class T>
View<T> typed_value(Napi::Env env, Napi::Value val, const char* name, bool optional, napi_typedarray_type type,
                    const char* type_name) {
  View<T> v;
  if (optional && (val.IsNull() || val.IsUndefined())) return v;
  if (!val.IsTypedArray() || val.As<Napi::TypedArray>().TypedArrayType() != type) throw_type(env, name, type_name);
  // The C API reports the element pointer for ArrayBuffer and SharedArrayBuffer backings alike
  // (node-addon-api's ArrayBuffer wrapper rejects a SharedArrayBuffer).
  napi_typedarray_type got_type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t byte_offset = 0;
  if (napi_get_typedarray_info(env, val, &got_type, &length, &data, &buffer, &byte_offset) != napi_ok)
    throw_type(env, name, type_name);
  bool detached = false;
  // Fails (not napi_ok) for a SharedArrayBuffer, which cannot be detached.
  if (napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && detached)
    throw_state(env, "ERR_DETACHED_BUFFER", std::string("The buffer behind ") + name + " is detached", name);
  v.data = length ? static_cast<T*>(data) : nullptr;
  v.length = length;
  v.value = val;
  v.present = true;
  return v;
}

}  // namespace

void tag_error(const Napi::Error& err, const char* code, const std::string& argument) {
  Napi::Object o = err.Value();
  o.Set("code", Napi::String::New(err.Env(), code));
  if (!argument.empty()) o.Set("argument", Napi::String::New(err.Env(), argument));
}

void throw_type(Napi::Env env, const std::string& name, const std::string& expected, const char* argument) {
  throw_tagged(Napi::TypeError::New(env, "Expected " + expected + " for " + name), "ERR_INVALID_ARG_TYPE",
               argument ? std::string(argument) : name);
}

void throw_range(Napi::Env env, const std::string& argument, const std::string& message) {
  throw_tagged(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE", argument);
}

void throw_length(Napi::Env env, const std::string& argument, const std::string& message) {
  throw_tagged(Napi::RangeError::New(env, message), "ERR_INVALID_ARG_VALUE", argument);
}

void throw_state(Napi::Env env, const std::string& code, const std::string& message, const std::string& argument) {
  throw_tagged(Napi::Error::New(env, message), code.c_str(), argument);
}

Napi::Object spec_arg(const Napi::CallbackInfo& info, size_t i) {
  const Napi::Value v = info[i];
  if (!v.IsObject()) throw_type(info.Env(), "spec", "object");
  return v.As<Napi::Object>();
}

namespace {
const napi_type_tag kCancelTag = {0x7265636272696467ull, 0x63616e63656c0001ull};  // "recbridg" "cancel"
}

bool is_shared(Napi::Env env, Napi::Value v) {
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) return false;
  bool plain = false;  // napi_is_arraybuffer is false for a SharedArrayBuffer
  return napi_is_arraybuffer(env, buffer, &plain) == napi_ok && !plain;
}

void require_shared(Napi::Env env, Napi::Value v, const std::string& name) {
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) return;
  bool plain = false;  // napi_is_arraybuffer is false for a SharedArrayBuffer
  if (length > 0 && napi_is_arraybuffer(env, buffer, &plain) == napi_ok && plain)
    throw_type(env, name,
               "a typed array on a SharedArrayBuffer (async work reads it in place; an ArrayBuffer could be detached "
               "mid-call)");
}

Napi::Value make_cancel_token(Napi::Env env) {
  auto* flag = new CancelFlag(std::make_shared<std::atomic<int>>(0));
  Napi::External<CancelFlag> ext =
      Napi::External<CancelFlag>::New(env, flag, [](Napi::Env, CancelFlag* f) { delete f; });
  if (napi_type_tag_object(env, ext, &kCancelTag) != napi_ok)
    throw_state(env, "ERR_NATIVE", "could not tag a cancel token");
  return ext;
}

CancelFlag cancel_token_value(Napi::Env env, Napi::Value v, const char* name) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  bool ok = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kCancelTag, &ok) != napi_ok || !ok)
    throw_type(env, name, "cancel token (from createCancelToken)");
  return *v.As<Napi::External<CancelFlag>>().Data();
}

View<float> f32_value(Napi::Env env, Napi::Value v, const char* name, bool optional) {
  return typed_value<float>(env, v, name, optional, napi_float32_array, "Float32Array");
}

View<int32_t> i32_value(Napi::Env env, Napi::Value v, const char* name, bool optional) {
  return typed_value<int32_t>(env, v, name, optional, napi_int32_array, "Int32Array");
}

View<uint8_t> u8_value(Napi::Env env, Napi::Value v, const char* name, bool optional) {
  return typed_value<uint8_t>(env, v, name, optional, napi_uint8_array, "Uint8Array");
}

int64_t integer_value(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber()) throw_type(env, name, "integer");
  const double x = v.As<Napi::Number>().DoubleValue();
  // Range first: converting NaN or an out-of-range double to an integer is undefined behaviour.
  if (!(x >= static_cast<double>(min) && x <= static_cast<double>(max)) || std::floor(x) != x)
    throw_range(env, name,
                "Expected integer in [" + std::to_string(min) + ", " + std::to_string(max) + "] for " + name);
  return static_cast<int64_t>(x);
}

double number_value(Napi::Env env, Napi::Value v, const char* name, double min, double max) {
  if (!v.IsNumber()) throw_type(env, name, "number");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!(x >= min && x <= max))
    throw_range(
        env, name,
        std::string("Expected number in [") + std::to_string(min) + ", " + std::to_string(max) + "] for " + name);
  return x;
}

void check_indices(Napi::Env env, const std::vector<int32_t>& idx, size_t bound, const char* name) {
  for (size_t j = 0; j < idx.size(); ++j)
    if (idx[j] < 0 || static_cast<size_t>(idx[j]) >= bound)
      throw_range(env, name,
                  std::string("Expected indices in [0, ") + std::to_string(bound) + ") for " + name + " but " + name +
                      "[" + std::to_string(j) + "] is " + std::to_string(idx[j]));
}

IndexList sorted_indices(Napi::Env env, const View<int32_t>& v, size_t bound, const char* name, bool copy) {
  IndexList list;
  bool strictly_increasing = true;
  if (!copy) {
    for (size_t j = 0; j < v.length; ++j) {
      const int32_t x = v.data[j];
      if (x < 0 || static_cast<size_t>(x) >= bound)
        throw_range(env, name,
                    std::string("Expected indices in [0, ") + std::to_string(bound) + ") for " + name + " but " + name +
                        "[" + std::to_string(j) + "] is " + std::to_string(x));
      if (j && x <= v.data[j - 1]) strictly_increasing = false;
    }
    if (strictly_increasing) {
      list.data = v.data;
      list.size = v.length;
      return list;
    }
  }
  list.storage.assign(v.data, v.data + v.length);
  check_indices(env, list.storage, bound, name);
  std::sort(list.storage.begin(), list.storage.end());
  list.storage.erase(std::unique(list.storage.begin(), list.storage.end()), list.storage.end());
  list.data = list.storage.data();
  list.size = list.storage.size();
  return list;
}

}  // namespace rbnapi
