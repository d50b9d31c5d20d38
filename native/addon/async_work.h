// The one shape of every asynchronous binding. The constructor (JS thread) reads and checks the
// spec and throws, unqueued, on bad arguments; Work() runs the kernel off the JS thread; Result()
// builds the value the promise resolves to. Settling the promise, the error codes of a rejection
// (ERR_OUT_OF_MEMORY when the kernel ran out of memory, ERR_NATIVE for any other failure) and the
// cancel token live here, so no worker repeats them.
#pragma once
#include <napi.h>

#include <atomic>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include "args.h"

namespace rbnapi {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the work; call once, on a fully constructed worker. The promise is made here, not in
  // the constructor: a constructor that throws on bad arguments would leave it never settled, and
  // its handle leaked.
  Napi::Promise Start() {
    deferred_.emplace(Napi::Promise::Deferred::New(Env()));
    Queue();
    return deferred_->Promise();
  }

 protected:
  // name: the binding's, for rejection messages and async hooks.
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, (std::string("recbridge:") + name).c_str()), name_(name) {}

  virtual void Work() = 0;
  virtual Napi::Value Result() = 0;

  // The spec's cancel token (null or undefined: none); work polls cancelled().
  void read_cancel(Napi::Env env, Napi::Value v, const char* name) { cancel_ = cancel_token_value(env, v, name); }
  const std::atomic<int>* cancelled() const { return cancel_.get(); }

 private:
  void Execute() final {
    try {
      Work();
    } catch (const std::bad_alloc&) {
      code_ = "ERR_OUT_OF_MEMORY";
      SetError(std::string("recbridge: out of memory in ") + name_);
    } catch (const std::exception& e) {
      SetError(std::string("recbridge: native failure in ") + name_ + ": " + e.what());
    }
  }

  void OnOK() final {
    Napi::Value result;
    try {
      result = Result();
    } catch (const Napi::Error& e) {  // e.g. no memory for the result's arrays
      deferred_->Reject(e.Value());
      return;
    }
    deferred_->Resolve(result);
  }

  void OnError(const Napi::Error& e) final {
    tag_error(e, code_);
    deferred_->Reject(e.Value());
  }

  std::optional<Napi::Promise::Deferred> deferred_;
  const char* name_;
  const char* code_ = "ERR_NATIVE";
  CancelFlag cancel_;
};

// Constructs W from the call's arguments, queues it and returns its promise.
template <class W>
Napi::Value queue(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto* w = new W(info);  // throws (and is not queued) on bad arguments
    return w->Start();
  });
}

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
