// Argument re-checks for the binding. The TS layer validates first with friendlier messages; these
// checks exist so that no call can read or write out of bounds even when lib/ is bypassed. Every
// error carries a stable `code` and names the argument.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rbnapi {

// Every error names what it concerns twice: in the message, for people, and as the `argument`
// property (the argument or spec field, as lib/ names it), next to a stable `code`, for lib/.
// argument overrides the name for the property when the message names more than one.
[[noreturn]] void throw_type(Napi::Env env, const std::string& name, const std::string& expected,
                             const char* argument = nullptr);
[[noreturn]] void throw_range(Napi::Env env, const std::string& argument, const std::string& message);
// A RangeError for a wrong length (code ERR_INVALID_ARG_VALUE, as in lib/).
[[noreturn]] void throw_length(Napi::Env env, const std::string& argument, const std::string& message);
// A plain Error (resources, native failures); argument may be empty.
[[noreturn]] void throw_state(Napi::Env env, const std::string& code, const std::string& message,
                              const std::string& argument = std::string());
// Sets `code` (and `argument` when not empty) on an error about to be thrown or rejected with.
void tag_error(const Napi::Error& err, const char* code, const std::string& argument = std::string());

// A typed array argument: pointer and element count (pointer may be null when the count is 0).
template <class T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  Napi::Value value;  // the JS object, for pinning in async work
  bool present = false;
};

// The spec object every call with more than a few arguments takes (info[i]).
Napi::Object spec_arg(const Napi::CallbackInfo& info, size_t i = 0);

// Typed arrays of one element type; optional ones may be null or undefined (present is false).
View<float> f32_value(Napi::Env env, Napi::Value v, const char* name, bool optional = false);
View<int32_t> i32_value(Napi::Env env, Napi::Value v, const char* name, bool optional = false);
View<uint8_t> u8_value(Napi::Env env, Napi::Value v, const char* name, bool optional = false);
// A number in [min, max] (NaN is out of range).
double number_value(Napi::Env env, Napi::Value v, const char* name, double min, double max);
// An integer in [min, max] (a fractional or non-finite value is a RangeError, never truncated).
int64_t integer_value(Napi::Env env, Napi::Value v, const char* name, int64_t min, int64_t max);
inline int64_t integer_value(Napi::Env env, Napi::Value v, const std::string& name, int64_t min, int64_t max) {
  return integer_value(env, v, name.c_str(), min, max);
}
// An id from constants.h in [first, last].
template <class E>
E enum_value(Napi::Env env, Napi::Value v, const char* name, E first, E last) {
  return static_cast<E>(integer_value(env, v, name, static_cast<int64_t>(first), static_cast<int64_t>(last)));
}

// An index list checked to lie in [0, bound), sorted ascending and duplicate-free. A list that
// already is (an ItemSet from lib/) is used in place; any other is copied, sorted and deduplicated.
// Lists that the kernels dereference (allow-lists) must be copied (`copy`): a list on a
// SharedArrayBuffer could change under us, and only a private copy keeps the bounds check valid.
struct IndexList {
  const int32_t* data = nullptr;
  size_t size = 0;
  std::vector<int32_t> storage;

  IndexList() = default;
  IndexList(IndexList&&) = default;
  IndexList& operator=(IndexList&&) = default;
  IndexList(const IndexList&) = delete;  // data may point into storage
  IndexList& operator=(const IndexList&) = delete;
};
IndexList sorted_indices(Napi::Env env, const View<int32_t>& v, size_t bound, const char* name, bool copy = false);

// Async work reads and writes JS memory in place after the call returns. An ArrayBuffer could be
// transferred (detached) meanwhile and its memory freed under the kernel; a SharedArrayBuffer cannot
// be detached. Throws a TypeError naming the argument unless v (a typed array) is on a
// SharedArrayBuffer or empty.
void require_shared(Napi::Env env, Napi::Value v, const std::string& name);
// True when the typed array v lives on a SharedArrayBuffer.
bool is_shared(Napi::Env env, Napi::Value v);

// Cancellation tokens: an External (type-tagged, so no other object passes for one) owning an atomic
// flag that async work shares; JS sets it through cancel(token).
using CancelFlag = std::shared_ptr<std::atomic<int>>;
Napi::Value make_cancel_token(Napi::Env env);
// The token's flag; a null pointer when the argument is null/undefined and optional.
CancelFlag cancel_token_value(Napi::Env env, Napi::Value v, const char* name);

// Throws a RangeError naming name[j] for the first entry outside [0, bound).
void check_indices(Napi::Env env, const std::vector<int32_t>& idx, size_t bound, const char* name);

// Runs body, turning C++ failures (bad_alloc and friends) into JS errors with a code instead of
// letting them escape into Node-API.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw_state(info.Env(), "ERR_OUT_OF_MEMORY", "recbridge: out of memory in native code");
  } catch (const std::exception& e) {
    throw_state(info.Env(), "ERR_NATIVE", std::string("recbridge: native failure: ") + e.what());
  }
}

}  // namespace rbnapi
