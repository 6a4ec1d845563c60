#include "harness/run/scheduler.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <deque>
#include <map>

#include "harness/run/lane.h"
#include "harness/run/produce.h"
#include "harness/util/interrupt.h"

namespace crossload {

int loaders_per_consumer(int jobs, int consumers) { return std::max(1, jobs / std::max(1, consumers)); }

NextStep next_step(const SlotView& v) {
  if (v.free_slots <= 0) return NextStep::kWait;
  bool running_dry = v.queued_loads < static_cast<std::size_t>(std::max(1, v.loader_lanes));
  if (v.can_produce && (running_dry || !v.can_load)) return NextStep::kProduce;
  if (v.can_load) return NextStep::kLoad;
  return NextStep::kWait;
}

int pick_lane(const std::vector<LaneView>& lanes) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(lanes.size()); ++i) {
    if (!lanes[i].idle || lanes[i].queued == 0) continue;
    if (best < 0 || lanes[i].queued > lanes[best].queued) best = i;
  }
  return best;
}

bool should_start_loader(std::size_t queued, int started, int allowed) {
  return started < allowed && queued > static_cast<std::size_t>(started);
}

namespace {

constexpr std::chrono::milliseconds kTick{1000};

struct ProducerLane {
  std::string env;
  std::deque<ProduceJob> todo;
  bool busy = false;
  Lane thread;
};

struct LoaderLane {
  std::string env;
  int index = 0;
  EnvSession session;  // its own consumer worker; only its thread touches it while busy
  bool started = false, busy = false, dead = false;
  std::unique_ptr<Lane> thread;  // declared after the session: joined before the session goes
};

class Scheduler {
 public:
  Scheduler(EnvSessions& envs, const SchedulerOptions& o, SchedulerSink& sink, RunLog& log)
      : envs_(envs), o_(o), sink_(sink), log_(log) {
    // Taken before any lane runs: a producer's lane may revive (and rewrite) its session later.
    int consumers = 0;
    for (auto& [name, s] : envs) {
      auto proto = std::make_shared<EnvSession>();
      proto->spec = s.spec;
      proto->record = s.record;
      proto->emulated = s.emulated;
      proto->loading = s.loading;
      proto->loader = std::move(s.loader);
      consumers += proto->loader != nullptr;
      protos_[name] = std::move(proto);
    }
    allowed_ = loaders_per_consumer(o.jobs, consumers);
  }
  ~Scheduler() { loaders_.clear(); }  // joins every lane before the sessions they use go

  void add_produce(ProduceJob job) {
    for (auto& p : producers_)
      if (p->env == job.producer) return p->todo.push_back(std::move(job));
    auto lane = std::make_unique<ProducerLane>();
    lane->env = job.producer;
    lane->todo.push_back(std::move(job));
    producers_.push_back(std::move(lane));
  }

  void add_load(LoadJob job) {
    std::string env = job.consumer;
    queued_[env].push_back(std::move(job));
    ensure_loaders(env);
  }

  // Once interrupted (harness/util/interrupt.h) nothing new starts, and what is in flight ends
  // within a second (its worker's request is cut short) and is dropped, not stored as a CRASH.
  void run() {
    for (;;) {
      while (!interrupted() && dispatch_one()) {
      }
      if (in_flight_ == 0 && starting_ == 0) break;
      std::function<void()> done;
      if (inbox_.pop_for(done, kTick)) done();
      sink_.tick();
    }
  }

 private:
  int started_lanes(const std::string& env) const {
    int n = 0;
    for (const auto& l : loaders_) n += l->env == env && !l->dead;
    return n;
  }

  // Lane 0 takes over the consumer worker the environment started with (on the main thread);
  // later lanes start their own, on their own thread, when the queue is longer than the lanes.
  void ensure_loaders(const std::string& env) {
    if (started_lanes(env) == 0) return add_first_loader(env);
    std::size_t queued = queued_[env].size();
    if (protos_.at(env)->record.status == "ok" && should_start_loader(queued, started_lanes(env), allowed_))
      add_loader(env);
  }

  void add_first_loader(const std::string& env) {
    EnvSession& s = *protos_.at(env);
    auto lane = std::make_unique<LoaderLane>();
    lane->env = env;
    lane->session.spec = s.spec;
    lane->session.record = s.record;
    lane->session.emulated = s.emulated;
    lane->session.loading = s.loading;
    lane->session.loader = std::move(s.loader);
    lane->started = true;
    lane->thread = std::make_unique<Lane>();
    loaders_.push_back(std::move(lane));
  }

  void add_loader(const std::string& env) {
    auto lane = std::make_unique<LoaderLane>();
    LoaderLane& l = *lane;
    l.env = env;
    l.index = started_lanes(env);
    l.thread = std::make_unique<Lane>();
    std::shared_ptr<const EnvSession> proto = protos_.at(env);
    ++starting_;
    log_.detail("  starting consumer worker #{} of {}", l.index, env);
    l.thread->post([this, &l, proto] {
      auto session = another_loader(*proto, l.index, o_.provision);
      inbox_.push([this, &l, session = std::make_shared<Result<EnvSession>>(std::move(session))] {
        --starting_;
        if (!*session && interrupted()) return void(l.dead = true);
        if (!*session) {
          l.dead = true;
          log_.error("environment {}: another consumer worker could not start ({}); its loads stay with the others",
                     l.env, session->error().message);
          return;
        }
        l.session = std::move(**session);
        l.started = true;
      });
    });
    loaders_.push_back(std::move(lane));
  }

  bool dispatch_one() {
    ProducerLane* producer = nullptr;
    for (auto& p : producers_)
      if (!p->busy && !p->todo.empty()) producer = p.get();
    std::vector<LaneView> views;
    std::size_t queued = 0;
    int lanes = 0;
    for (const auto& l : loaders_) {
      bool ready = l->started && !l->dead;
      views.push_back({ready && !l->busy, queued_[l->env].size()});
      lanes += ready;
    }
    for (const auto& [env, q] : queued_) queued += q.size();
    int lane = pick_lane(views);
    SlotView v{o_.jobs - in_flight_, queued, lanes, producer != nullptr, lane >= 0};
    switch (next_step(v)) {
      case NextStep::kProduce: start_produce(*producer); return true;
      case NextStep::kLoad: start_load(*loaders_[static_cast<std::size_t>(lane)]); return true;
      case NextStep::kWait: return false;
    }
    return false;
  }

  void start_produce(ProducerLane& p) {
    ProduceJob job = std::move(p.todo.front());
    p.todo.pop_front();
    p.busy = true;
    ++in_flight_;
    sink_.working_on(fmt::format("training {} in {}", job.fixture.name, job.producer));
    p.thread.post([this, &p, job = std::move(job)] {
      log_.detail("  -> {} worker: train {}, dump {}", job.producer, job.fixture.name, fmt::join(job.formats, ", "));
      // The producer's worker is revived (if it dies) on this thread, which outlives its use.
      auto artifacts = produce_fixture(envs_.at(job.producer), job.fixture, job.formats, o_.artifacts_dir, log_);
      inbox_.push([this, &p, artifacts = std::move(artifacts)] {
        p.busy = false;
        --in_flight_;
        if (p.todo.empty()) retire_producer(p);
        if (interrupted()) return;
        for (const auto& a : artifacts) {
          auto shared = std::make_shared<const ArtifactRecord>(a);
          for (auto& consumer : sink_.produced(a)) add_load({shared, consumer});
        }
      });
    });
  }

  // A producer with nothing left to train stops its worker: a matrix with many producing
  // environments (full.toml: 34, most under QEMU at 300-600 MB each) otherwise keeps every one of
  // them resident to the end of the run. Stopped on the lane's own thread, which started or
  // revived it, so a slow exit under QEMU does not hold the scheduler.
  void retire_producer(ProducerLane& p) {
    p.thread.post([this, env = p.env] {
      EnvSession& s = envs_.at(env);
      if (!s.worker) return;
      s.worker.reset();
      log_.detail("  {}: every fixture of the run produced; its worker stopped", env);
    });
  }

  void start_load(LoaderLane& l) {
    LoadJob job = std::move(queued_[l.env].front());
    queued_[l.env].pop_front();
    l.busy = true;
    ++in_flight_;
    const ArtifactRecord& a = *job.artifact;
    sink_.working_on(cell_id(a.fixture, a.format, a.producer, job.consumer));
    l.thread->post([this, &l, job = std::move(job)] {
      const ArtifactRecord& a = *job.artifact;
      log_.detail("  -> {} consumer worker #{}: load_predict {}", l.env, l.index,
                  cell_id(a.fixture, a.format, a.producer, l.env));
      auto cell = consume_cell(l.session, a, o_.consume, log_);
      // A worker that died mid-request is restarted once, here (this thread outlives it); the
      // cell that killed it is recorded as it is (CRASH/TIMEOUT), never retried.
      EnvSession& s = l.session;
      if (s.loader && !s.loader->running() && s.record.status == "ok") s.revive_loader(log_);
      if (cell && o_.after_load && !interrupted()) o_.after_load(s, a, *cell);
      inbox_.push([this, &l, job, cell = std::make_shared<Result<CellRecord>>(std::move(cell))] {
        l.busy = false;
        --in_flight_;
        if (!interrupted()) sink_.loaded(job, std::move(*cell));
      });
    });
  }

  Inbox inbox_;  // first: outlives the lanes that push into it
  EnvSessions& envs_;
  const SchedulerOptions& o_;
  SchedulerSink& sink_;
  RunLog& log_;
  int allowed_ = 1;
  int in_flight_ = 0, starting_ = 0;
  std::vector<std::unique_ptr<ProducerLane>> producers_;
  std::vector<std::unique_ptr<LoaderLane>> loaders_;
  std::map<std::string, std::deque<LoadJob>> queued_;
  std::map<std::string, std::shared_ptr<EnvSession>> protos_;  // each environment as it started
};

}  // namespace

void run_scheduler(EnvSessions& envs, std::vector<ProduceJob> produce, std::vector<LoadJob> loads,
                   const SchedulerOptions& options, SchedulerSink& sink, RunLog& log) {
  Scheduler s(envs, options, sink, log);
  for (auto& job : produce) s.add_produce(std::move(job));
  for (auto& job : loads) s.add_load(std::move(job));
  s.run();
}

}  // namespace crossload
