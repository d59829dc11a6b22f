// healthscore-load: drives a Healthscore server and reports accounts per
// second and latency percentiles.
//
//   healthscore-load --target 127.0.0.1:50051 --scenario single --rate 5000
//   healthscore-load --scenario single --concurrency 64        # saturation
//   healthscore-load --scenario batch --form map --batch 1024 --concurrency 4
//   healthscore-load --scenario batch --form columnar --batch 1024
//   healthscore-load --scenario stream --form columnar --batch 1024
//   healthscore-load --service-config deploy/grpc/service_config.json
//       --target ipv4:127.0.0.1:50051,127.0.0.1:50052      # replicas
//
// Requests are built before the clock starts from random accounts that fit
// the model's declared inputs (ModelService.GetModel), so the measurement is
// the server plus the client's gRPC cost, not request generation. Latency is
// measured per call (per batch for the stream) from the moment the call was
// due: with --rate, a call that had to wait for the client still counts the
// wait (no coordinated omission).
//
// Uses gRPC's callback client API; --connections spreads calls over that
// many HTTP/2 connections.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "healthscore/v1/model.grpc.pb.h"
#include "healthscore/v1/scoring.grpc.pb.h"

namespace {

namespace v1 = ::healthscore::v1;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string target = "127.0.0.1:50051";
  std::string scenario = "single";  // single | batch | stream
  std::string form = "map";         // map | columnar
  std::string model;
  int batch = 1024;
  double rate = 0;       // calls per second; 0 = closed loop
  int concurrency = 16;  // calls (or stream batches) in flight
  int connections = 2;
  int streams = 2;       // stream scenario: concurrent streams
  double duration = 10;  // seconds measured
  double warmup = 2;     // seconds before measuring
  bool reasons = false;  // keep playbook reasons (omitted by default)
  // Score every account with --model even if its config routes segments
  // elsewhere (to measure what routing costs).
  bool ignore_routes = false;
  // Also score every batch with this candidate model (shadow scoring).
  std::string shadow;
  // Send pre-serialized requests and leave responses unparsed (what h2load
  // would do): measures the server with the least client cost.
  bool raw = false;
  // Map form: ask for the results by column (ScoreOptions.columnar_results).
  bool columnar_results = false;
  bool json = false;
  // A gRPC service config (JSON file) for the channels: with a target
  // listing several replicas and round_robin in it, calls spread over them
  // (docs/scaling.md).
  std::string service_config;
};

void Usage() {
  std::fprintf(stderr,
               "usage: healthscore-load [--target HOST:PORT] "
               "[--scenario single|batch|stream]\n"
               "  [--form map|columnar] [--batch N] [--rate CALLS_PER_S | "
               "--concurrency N]\n"
               "  [--connections N] [--streams N] [--duration S] [--warmup S]"
               " [--model NAME]\n"
               "  [--shadow CANDIDATE_MODEL] [--service-config FILE]"
               "  [--reasons] [--ignore-routes] [--columnar-results] [--raw]"
               " [--json]\n");
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        *out = a.substr(eq + 1);
        a = a.substr(0, eq);
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--reasons") {
      f->reasons = true;
      continue;
    }
    if (a == "--ignore-routes") {
      f->ignore_routes = true;
      continue;
    }
    if (a == "--json") {
      f->json = true;
      continue;
    }
    if (a == "--raw") {
      f->raw = true;
      continue;
    }
    if (a == "--columnar-results") {
      f->columnar_results = true;
      continue;
    }
    if (a == "--help" || a == "-h") return false;
    std::string name = a.substr(0, a.find('='));
    if (!value(&v)) return false;
    bool ok = true;
    if (name == "--target") {
      f->target = v;
    } else if (name == "--scenario") {
      f->scenario = v;
    } else if (name == "--form") {
      f->form = v;
    } else if (name == "--model") {
      f->model = v;
    } else if (name == "--shadow") {
      f->shadow = v;
    } else if (name == "--service-config") {
      f->service_config = v;
    } else if (name == "--batch") {
      ok = absl::SimpleAtoi(v, &f->batch);
    } else if (name == "--rate") {
      ok = absl::SimpleAtod(v, &f->rate);
    } else if (name == "--concurrency") {
      ok = absl::SimpleAtoi(v, &f->concurrency);
    } else if (name == "--connections") {
      ok = absl::SimpleAtoi(v, &f->connections);
    } else if (name == "--streams") {
      ok = absl::SimpleAtoi(v, &f->streams);
    } else if (name == "--duration") {
      ok = absl::SimpleAtod(v, &f->duration);
    } else if (name == "--warmup") {
      ok = absl::SimpleAtod(v, &f->warmup);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", name.c_str());
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for %s: %s\n", name.c_str(), v.c_str());
      return false;
    }
  }
  if (f->scenario == "single") f->batch = 1;
  return f->batch >= 1 && f->concurrency >= 1 && f->connections >= 1 &&
         (f->form == "map" || f->form == "columnar") &&
         (f->scenario == "single" || f->scenario == "batch" ||
          f->scenario == "stream");
}

// Random snapshots that fit the model's inputs.
struct Workload {
  std::vector<v1::ScoreRequest> requests;  // cycled through
  std::vector<grpc::ByteBuffer> raw;       // the same, serialized (--raw)
  std::vector<int> accounts;               // per request
};

v1::AccountSnapshot RandomAccount(const v1::GetModelResponse& model,
                                  std::mt19937* rng, int index) {
  std::uniform_real_distribution<double> unit(0, 1);
  const absl::CivilDay as_of(2026, 11, 1);
  v1::AccountSnapshot a;
  a.set_id(absl::StrCat("acct-", index));
  a.set_as_of(absl::FormatCivilTime(as_of));
  for (const v1::InputDescription& in : model.inputs()) {
    if (unit(*rng) < 0.05) continue;  // some values missing
    double lo = in.has_range_min() ? in.range_min() : 0;
    double hi = in.has_range_max() ? in.range_max() : 100;
    // Counts and ratios: keep to the low end of wide ranges.
    if (hi - lo > 1000) hi = lo + 1000;
    switch (in.type()) {
      case v1::INPUT_TYPE_NUMBER:
        (*a.mutable_metrics())[in.id()] = lo + unit(*rng) * (hi - lo);
        break;
      case v1::INPUT_TYPE_STRING:
        (*a.mutable_attributes())[in.id()] =
            in.values_size() > 0
                ? in.values(static_cast<int>((*rng)() % in.values_size()))
                : "other";
        break;
      case v1::INPUT_TYPE_DATE:
        (*a.mutable_dates())[in.id()] = absl::FormatCivilTime(
            as_of + static_cast<int>((*rng)() % 800) - 400);
        break;
      case v1::INPUT_TYPE_SERIES: {
        v1::Series& s = (*a.mutable_series())[in.id()];
        int n = 8 + static_cast<int>((*rng)() % 5);
        double level = 50 + unit(*rng) * 500;
        for (int k = 0; k < n; ++k) {
          level *= 0.9 + 0.2 * unit(*rng);
          s.add_values(std::round(level));
        }
        break;
      }
      default:
        break;
    }
  }
  if (unit(*rng) < 0.5) a.set_previous_score(unit(*rng) * 100);
  return a;
}

v1::ColumnarAccounts ToColumns(
    const std::vector<v1::AccountSnapshot>& accounts,
    const v1::GetModelResponse& model) {
  v1::ColumnarAccounts c;
  const double nan = std::nan("");
  const absl::CivilDay epoch(1970, 1, 1);
  bool any_prev = false;
  for (const auto& a : accounts) {
    c.add_ids(a.id());
    any_prev |= a.has_previous_score();
  }
  c.add_as_of(accounts.empty() ? "" : accounts[0].as_of());
  for (const v1::InputDescription& in : model.inputs()) {
    switch (in.type()) {
      case v1::INPUT_TYPE_NUMBER: {
        v1::NumberColumn* col = c.add_metrics();
        col->set_name(in.id());
        for (const auto& a : accounts) {
          auto it = a.metrics().find(in.id());
          col->add_values(it == a.metrics().end() ? nan : it->second);
        }
        break;
      }
      case v1::INPUT_TYPE_STRING: {
        v1::StringColumn* col = c.add_attributes();
        col->set_name(in.id());
        std::map<std::string, int> dict;
        for (const auto& a : accounts) {
          auto it = a.attributes().find(in.id());
          if (it == a.attributes().end()) {
            col->add_codes(-1);
            continue;
          }
          auto [pos, added] = dict.emplace(it->second, col->dictionary_size());
          if (added) col->add_dictionary(it->second);
          col->add_codes(pos->second);
        }
        break;
      }
      case v1::INPUT_TYPE_DATE: {
        v1::DateColumn* col = c.add_dates();
        col->set_name(in.id());
        for (const auto& a : accounts) {
          auto it = a.dates().find(in.id());
          absl::CivilDay day;
          if (it == a.dates().end() ||
              !absl::ParseCivilTime(it->second, &day)) {
            col->add_days(nan);
          } else {
            col->add_days(static_cast<double>(day - epoch));
          }
        }
        break;
      }
      case v1::INPUT_TYPE_SERIES: {
        v1::SeriesColumn* col = c.add_series();
        col->set_name(in.id());
        for (const auto& a : accounts) {
          auto it = a.series().find(in.id());
          if (it == a.series().end()) {
            col->add_lengths(-1);
            continue;
          }
          col->add_lengths(it->second.values_size());
          for (double v : it->second.values()) col->add_values(v);
        }
        break;
      }
      default:
        break;
    }
  }
  if (any_prev) {
    for (const auto& a : accounts) {
      c.add_previous_score(a.has_previous_score() ? a.previous_score() : nan);
    }
  }
  return c;
}

Workload BuildWorkload(const Flags& f, const v1::GetModelResponse& model) {
  Workload w;
  std::mt19937 rng(12345);
  // Enough distinct requests that caches do not flatter the numbers.
  const int distinct = f.batch == 1 ? 4096 : std::max(4, 65536 / f.batch);
  int index = 0;
  for (int r = 0; r < distinct; ++r) {
    std::vector<v1::AccountSnapshot> accounts;
    for (int i = 0; i < f.batch; ++i) {
      accounts.push_back(RandomAccount(model, &rng, index++));
    }
    v1::ScoreRequest req;
    req.set_model(f.model);
    req.mutable_options()->set_omit_reasons(!f.reasons);
    req.mutable_options()->set_ignore_routes(f.ignore_routes);
    req.mutable_options()->set_columnar_results(f.columnar_results);
    if (!f.shadow.empty()) req.mutable_shadow()->set_model(f.shadow);
    if (f.form == "columnar") {
      *req.mutable_columns() = ToColumns(accounts, model);
    } else {
      for (auto& a : accounts) *req.add_accounts() = std::move(a);
    }
    w.accounts.push_back(f.batch);
    if (f.raw) {
      std::string bytes = req.SerializeAsString();
      grpc::Slice slice(bytes);
      w.raw.emplace_back(&slice, 1);
    }
    w.requests.push_back(std::move(req));
  }
  return w;
}

// Latencies and counts of the measured window.
class Recorder {
 public:
  void Start(Clock::time_point begin, Clock::time_point end) {
    begin_ = begin;
    end_ = end;
  }
  // `due` is when the call should have started; `done` when it completed.
  void Record(Clock::time_point due, Clock::time_point done, int accounts,
              const grpc::Status& status) {
    if (due < begin_ || due >= end_) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!status.ok()) {
      ++errors_[status.error_code()];
      return;
    }
    latencies_us_.push_back(
        std::chrono::duration<double, std::micro>(done - due).count());
    accounts_ += accounts;
  }

  // The server's own view of a call (ScoreResponse.elapsed_micros and
  // queue_micros), when the response is parsed.
  void RecordServer(Clock::time_point due, uint64_t elapsed_us,
                    uint64_t queue_us) {
    if (due < begin_ || due >= end_) return;
    std::lock_guard<std::mutex> lock(mu_);
    server_us_.push_back(static_cast<double>(elapsed_us));
    queue_us_.push_back(static_cast<double>(queue_us));
  }

  std::string Report(const Flags& f, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(latencies_us_.begin(), latencies_us_.end());
    std::sort(server_us_.begin(), server_us_.end());
    std::sort(queue_us_.begin(), queue_us_.end());
    auto pct_of = [](const std::vector<double>& v, double p) {
      if (v.empty()) return 0.0;
      size_t i = static_cast<size_t>(p * (v.size() - 1));
      return v[i] / 1000.0;
    };
    auto pct = [&](double p) { return pct_of(latencies_us_, p); };
    uint64_t errors = 0;
    std::string error_text;
    for (const auto& [code, n] : errors_) {
      errors += n;
      absl::StrAppend(&error_text, " code", code, "=", n);
    }
    const double calls = static_cast<double>(latencies_us_.size());
    std::string name = f.scenario == "single" && f.rate > 0
                           ? absl::StrFormat("single @%g/s", f.rate)
                       : f.scenario == "single"
                           ? absl::StrFormat("single c=%d", f.concurrency)
                           : absl::StrFormat("%s %s x%d c=%d", f.scenario,
                                             f.form, f.batch, f.concurrency);
    if (f.columnar_results) name += " columnar-results";
    if (f.raw) name += " raw";
    if (f.json) {
      return absl::StrFormat(
          "{\"scenario\":\"%s\",\"calls_per_s\":%.0f,\"accounts_per_s\":%.0f,"
          "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
          "\"errors\":%d}",
          name, calls / seconds, accounts_ / seconds, pct(0.5), pct(0.95),
          pct(0.99), pct(1.0), errors);
    }
    std::string server;
    if (!server_us_.empty()) {
      server = absl::StrFormat(
          "  | in server: p50 %.3f ms  p99 %.3f ms (queue p99 %.3f ms)",
          pct_of(server_us_, 0.5), pct_of(server_us_, 0.99),
          pct_of(queue_us_, 0.99));
    }
    return absl::StrFormat(
        "%-32s %10.0f calls/s %12.0f accounts/s   p50 %7.3f ms  p95 %7.3f ms"
        "  p99 %7.3f ms  max %7.3f ms  errors %d%s%s",
        name, calls / seconds, accounts_ / seconds, pct(0.5), pct(0.95),
        pct(0.99), pct(1.0), errors, error_text, server);
  }

 private:
  std::mutex mu_;
  Clock::time_point begin_, end_;
  std::vector<double> latencies_us_, server_us_, queue_us_;
  double accounts_ = 0;
  std::map<int, uint64_t> errors_;
};

// One unary call in flight.
struct Call {
  grpc::ClientContext ctx;
  v1::ScoreResponse response;
  grpc::ByteBuffer raw_request, raw_response;
  Clock::time_point due;
  int accounts = 0;
};

constexpr char kScoreMethod[] = "/healthscore.v1.ScoringService/Score";
constexpr char kStreamMethod[] = "/healthscore.v1.ScoringService/ScoreStream";

struct Stubs {
  std::vector<std::unique_ptr<v1::ScoringService::Stub>> typed;
  std::vector<std::unique_ptr<grpc::GenericStub>> raw;
};

class UnaryDriver {
 public:
  UnaryDriver(const Flags& f, const Workload& w, Stubs* stubs,
              Recorder* recorder)
      : f_(f), w_(w), stubs_(*stubs), recorder_(recorder) {}

  // Closed loop: `concurrency` calls always in flight until `stop`.
  void RunClosed(Clock::time_point stop) {
    stop_ = stop;
    for (int i = 0; i < f_.concurrency; ++i) Issue(Clock::now());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_ == 0 && Clock::now() >= stop_; });
  }

  // Open loop: one call every 1/rate seconds until `stop`, whatever the
  // completions do.
  void RunOpen(Clock::time_point stop) {
    stop_ = stop;
    closed_ = false;
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / f_.rate));
    Clock::time_point next = Clock::now();
    while (next < stop) {
      std::this_thread::sleep_until(next);
      Issue(next);
      next += interval;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_ == 0; });
  }

 private:
  void Issue(Clock::time_point due) {
    uint64_t n = counter_.fetch_add(1);
    const size_t r = n % w_.requests.size();
    auto* call = new Call;
    call->due = due;
    call->accounts = w_.accounts[r];
    call->ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++outstanding_;
    }
    auto done = [this, call](grpc::Status s) {
      Clock::time_point now = Clock::now();
      recorder_->Record(call->due, now, call->accounts, s);
      if (s.ok() && !f_.raw) {
        recorder_->RecordServer(call->due, call->response.elapsed_micros(),
                                call->response.queue_micros());
      }
      delete call;
      bool again = closed_ && now < stop_;
      if (again) Issue(now);
      std::lock_guard<std::mutex> lock(mu_);
      --outstanding_;
      if (outstanding_ == 0) cv_.notify_all();
    };
    if (f_.raw) {
      call->raw_request = w_.raw[r];  // shares the slices
      stubs_.raw[n % stubs_.raw.size()]->UnaryCall(
          &call->ctx, kScoreMethod, grpc::StubOptions(), &call->raw_request,
          &call->raw_response, std::move(done));
    } else {
      stubs_.typed[n % stubs_.typed.size()]->async()->Score(
          &call->ctx, &w_.requests[r], &call->response, std::move(done));
    }
  }

  const Flags& f_;
  const Workload& w_;
  Stubs& stubs_;
  Recorder* recorder_;
  std::atomic<uint64_t> counter_{0};
  Clock::time_point stop_;
  bool closed_ = true;
  std::mutex mu_;
  std::condition_variable cv_;
  int outstanding_ = 0;
};

// One ScoreStream with up to `window` batches written ahead of the
// responses. Req/Resp are the typed messages or grpc::ByteBuffer (--raw).
template <typename Req, typename Resp>
class StreamDriver : public grpc::ClientBidiReactor<Req, Resp> {
 public:
  StreamDriver(const std::vector<Req>* requests, const Workload& w,
               int window, Clock::time_point stop, Recorder* recorder,
               int seed)
      : requests_(*requests), w_(w), window_(window), stop_(stop),
        recorder_(recorder), next_(static_cast<size_t>(seed) * 7919) {}

  grpc::ClientContext* context() { return &ctx_; }

  void Start() {
    this->StartRead(&response_);
    MaybeWrite();
    this->StartCall();
  }

  grpc::Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return status_;
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) return;
    }
    MaybeWrite();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    Clock::time_point now = Clock::now();
    Clock::time_point due;
    int accounts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      due = sent_.front().first;
      accounts = sent_.front().second;
      sent_.erase(sent_.begin());
    }
    recorder_->Record(due, now, accounts, grpc::Status::OK);
    this->StartRead(&response_);
    MaybeWrite();
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  }

 private:
  void MaybeWrite() {
    const Req* req = nullptr;
    bool close = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_ || closed_) return;
      if (Clock::now() >= stop_) {
        closed_ = true;
        close = true;
      } else if (static_cast<int>(sent_.size()) < window_) {
        const size_t r = next_++ % requests_.size();
        req = &requests_[r];
        sent_.emplace_back(Clock::now(), w_.accounts[r]);
        writing_ = true;
      }
    }
    if (close) this->StartWritesDone();
    if (req != nullptr) this->StartWrite(req);
  }

  grpc::ClientContext ctx_;
  const std::vector<Req>& requests_;
  const Workload& w_;
  const int window_;
  const Clock::time_point stop_;
  Recorder* recorder_;
  Resp response_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Clock::time_point, int>> sent_;
  size_t next_;
  bool writing_ = false;
  bool closed_ = false;
  bool done_ = false;
  grpc::Status status_;
};

template <typename Req, typename Resp, typename StartFn>
void RunStreams(const Flags& f, const std::vector<Req>& requests,
                const Workload& w, Clock::time_point stop,
                Recorder* recorder, StartFn start) {
  std::vector<std::unique_ptr<StreamDriver<Req, Resp>>> drivers;
  const int window = std::max(1, f.concurrency / std::max(1, f.streams));
  for (int i = 0; i < f.streams; ++i) {
    drivers.push_back(std::make_unique<StreamDriver<Req, Resp>>(
        &requests, w, window, stop, recorder, i));
    start(i, drivers.back().get());
    drivers.back()->Start();
  }
  for (auto& d : drivers) {
    grpc::Status st = d->Wait();
    if (!st.ok()) {
      std::fprintf(stderr, "stream ended with %d: %s\n", st.error_code(),
                   st.error_message().c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    Usage();
    return 2;
  }
  std::string service_config;
  if (!f.service_config.empty()) {
    std::ifstream in(f.service_config);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "cannot read --service-config %s\n",
                   f.service_config.c_str());
      return 2;
    }
    service_config = text.str();
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  Stubs stubs;
  for (int i = 0; i < f.connections; ++i) {
    grpc::ChannelArguments args;
    if (!service_config.empty()) args.SetServiceConfigJSON(service_config);
    args.SetMaxReceiveMessageSize(256 << 20);
    args.SetMaxSendMessageSize(256 << 20);
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    channels.push_back(grpc::CreateCustomChannel(
        f.target, grpc::InsecureChannelCredentials(), args));
    stubs.typed.push_back(v1::ScoringService::NewStub(channels.back()));
    stubs.raw.push_back(std::make_unique<grpc::GenericStub>(channels.back()));
  }
  auto models = v1::ModelService::NewStub(channels[0]);
  v1::GetModelRequest get;
  get.set_name(f.model);
  v1::GetModelResponse model;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status s = models->GetModel(&ctx, get, &model);
  if (!s.ok()) {
    std::fprintf(stderr, "GetModel on %s failed: %s\n", f.target.c_str(),
                 s.error_message().c_str());
    return 1;
  }
  Workload w = BuildWorkload(f, model);
  if (!f.json) {
    std::fprintf(stderr,
                 "model %s version %s (%d inputs); %zu distinct requests of %d "
                 "accounts (%s form, %zu bytes each)\n",
                 model.name().c_str(), model.version().c_str(),
                 model.inputs_size(), w.requests.size(), f.batch,
                 f.form.c_str(), w.requests[0].ByteSizeLong());
  }

  Recorder recorder;
  const Clock::time_point start = Clock::now();
  const auto warm = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(f.warmup));
  const auto measure = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(f.duration));
  recorder.Start(start + warm, start + warm + measure);
  const Clock::time_point stop = start + warm + measure;

  if (f.scenario == "stream" && f.raw) {
    RunStreams<grpc::ByteBuffer, grpc::ByteBuffer>(
        f, w.raw, w, stop, &recorder,
        [&](int i, StreamDriver<grpc::ByteBuffer, grpc::ByteBuffer>* d) {
          stubs.raw[i % stubs.raw.size()]->PrepareBidiStreamingCall(
              d->context(), kStreamMethod, grpc::StubOptions(), d);
        });
  } else if (f.scenario == "stream") {
    RunStreams<v1::ScoreRequest, v1::ScoreResponse>(
        f, w.requests, w, stop, &recorder,
        [&](int i, StreamDriver<v1::ScoreRequest, v1::ScoreResponse>* d) {
          stubs.typed[i % stubs.typed.size()]->async()->ScoreStream(
              d->context(), d);
        });
  } else {
    UnaryDriver driver(f, w, &stubs, &recorder);
    if (f.rate > 0) {
      driver.RunOpen(stop);
    } else {
      driver.RunClosed(stop);
    }
  }
  std::printf("%s\n", recorder.Report(f, f.duration).c_str());
  return 0;
}
