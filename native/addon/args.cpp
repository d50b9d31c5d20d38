#include "args.h"

#include <algorithm>

namespace rbnapi {

namespace {

[[noreturn]] void throw_with_code(Napi::Error err, const std::string& code) {
  err.Set("code", Napi::String::New(err.Env(), code));
  throw err;
}

template <class T>
View<T> typed_arg(const Napi::CallbackInfo& info, size_t i, const char* name, bool optional, napi_typedarray_type type,
                  const char* type_name) {
  View<T> v;
  const Napi::Value val = info[i];
  if (optional && (val.IsNull() || val.IsUndefined())) return v;
  if (!val.IsTypedArray() || val.As<Napi::TypedArray>().TypedArrayType() != type)
    throw_type(info.Env(), name, type_name);
  // The C API reports the element pointer for ArrayBuffer and SharedArrayBuffer backings alike
  // (node-addon-api's ArrayBuffer wrapper rejects a SharedArrayBuffer).
  napi_typedarray_type got_type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t byte_offset = 0;
  if (napi_get_typedarray_info(info.Env(), val, &got_type, &length, &data, &buffer, &byte_offset) != napi_ok)
    throw_type(info.Env(), name, type_name);
  bool detached = false;
  // Fails (not napi_ok) for a SharedArrayBuffer, which cannot be detached.
  if (napi_is_detached_arraybuffer(info.Env(), buffer, &detached) == napi_ok && detached)
    throw_state(info.Env(), "ERR_DETACHED_BUFFER", std::string("The buffer behind ") + name + " is detached");
  v.data = length ? static_cast<T*>(data) : nullptr;
  v.length = length;
  v.value = val;
  v.present = true;
  return v;
}

}  // namespace

void throw_type(Napi::Env env, const std::string& arg, const std::string& expected) {
  throw_with_code(Napi::TypeError::New(env, "Expected " + expected + " for " + arg), "ERR_INVALID_ARG_TYPE");
}

void throw_range(Napi::Env env, const std::string& message) {
  throw_with_code(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE");
}

void throw_state(Napi::Env env, const std::string& code, const std::string& message) {
  throw_with_code(Napi::Error::New(env, message), code);
}

View<float> f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name, bool optional) {
  return typed_arg<float>(info, i, name, optional, napi_float32_array, "Float32Array");
}

View<int32_t> i32_arg(const Napi::CallbackInfo& info, size_t i, const char* name, bool optional) {
  return typed_arg<int32_t>(info, i, name, optional, napi_int32_array, "Int32Array");
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  const Napi::Value val = info[i];
  if (!val.IsNumber()) throw_type(info.Env(), name, "integer");
  const double x = val.As<Napi::Number>().DoubleValue();
  if (!(x == static_cast<double>(static_cast<int64_t>(x))) || x < static_cast<double>(min) ||
      x > static_cast<double>(max))
    throw_range(info.Env(), std::string("Expected integer in [") + std::to_string(min) + ", " + std::to_string(max) +
                                "] for " + name);
  return static_cast<int64_t>(x);
}

void check_indices(Napi::Env env, const std::vector<int32_t>& idx, size_t bound, const char* name) {
  for (size_t j = 0; j < idx.size(); ++j)
    if (idx[j] < 0 || static_cast<size_t>(idx[j]) >= bound)
      throw_range(env, std::string("Expected indices in [0, ") + std::to_string(bound) + ") for " + name + " but " +
                           name + "[" + std::to_string(j) + "] is " + std::to_string(idx[j]));
}

IndexList sorted_indices(Napi::Env env, const View<int32_t>& v, size_t bound, const char* name, bool copy) {
  IndexList list;
  bool strictly_increasing = true;
  if (!copy) {
    for (size_t j = 0; j < v.length; ++j) {
      const int32_t x = v.data[j];
      if (x < 0 || static_cast<size_t>(x) >= bound)
        throw_range(env, std::string("Expected indices in [0, ") + std::to_string(bound) + ") for " + name + " but " +
                             name + "[" + std::to_string(j) + "] is " + std::to_string(x));
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
