// The shape every asynchronous binding shares: a promise settled in OnOK/OnError, a stable error
// code on rejection (ERR_OUT_OF_MEMORY when the kernel ran out of memory, ERR_NATIVE otherwise),
// and kernel runs that turn std::bad_alloc into that rejection instead of an escaped exception.
#pragma once
#include <napi.h>

#include <new>
#include <string>

namespace rbnapi {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Runs kernel work from Execute(); an allocation failure rejects the promise with ERR_OUT_OF_MEMORY.
  template <class F>
  void run(const char* what, F work) {
    try {
      work();
    } catch (const std::bad_alloc&) {
      code_ = "ERR_OUT_OF_MEMORY";
      SetError(std::string("recbridge: out of memory in ") + what);
    }
  }

  void OnError(const Napi::Error& e) override {
    e.Value().Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(e.Value());
  }

  Napi::Promise::Deferred deferred_;

 private:
  const char* code_ = "ERR_NATIVE";
};

// { loss, samples, invalid, diverged, cancelled }: what a training chunk reports to lib/.
inline Napi::Object chunk_outcome(Napi::Env env, double loss, size_t samples, size_t invalid, bool diverged,
                                  bool cancelled) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loss", Napi::Number::New(env, loss));
  o.Set("samples", Napi::Number::New(env, static_cast<double>(samples)));
  o.Set("invalid", Napi::Number::New(env, static_cast<double>(invalid)));
  o.Set("diverged", Napi::Boolean::New(env, diverged));
  o.Set("cancelled", Napi::Boolean::New(env, cancelled));
  return o;
}

}  // namespace rbnapi
