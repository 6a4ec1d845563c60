#include "harness/run/scheduler.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <deque>
#include <limits>
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

int pick_to_stop(const std::vector<WorkerView>& workers, bool for_producer) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(workers.size()); ++i) {
    const WorkerView& w = workers[i];
    if (!w.stoppable) continue;
    if (w.work == 0) return i;
    if (for_producer && w.consumer && (best < 0 || w.work < workers[best].work)) best = i;
  }
  return best;
}

int pick_to_wake(const std::vector<ParkedView>& lanes) {
  int best = -1;
  auto rank = [](const ParkedView& p) { return std::make_pair(p.emulated, p.queued); };
  for (int i = 0; i < static_cast<int>(lanes.size()); ++i) {
    if (!lanes[i].parked || lanes[i].queued == 0) continue;
    if (best < 0 || rank(lanes[i]) > rank(lanes[best])) best = i;
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
  bool live = false;      // its worker runs, or starts with its next job: counts against the budget
  bool stopping = false;  // its worker is stopping: live until it has exited
  Lane thread;
};

struct LoaderLane {
  std::string env;
  int index = 0;
  EnvSession session;  // its own consumer worker; only its thread touches it while busy
  bool started = false, busy = false, dead = false;
  bool live = false;  // its worker runs, is starting or stopping: counts against the budget
  std::unique_ptr<Lane> thread;  // declared after the session: joined before the session goes
  // Stopped under --max-workers (or never started): it starts again when its turn comes.
  bool parked() const { return !started && !live && !dead; }
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
      proto->load_formats = s.load_formats;
      proto->loader = std::move(s.loader);
      consumers += proto->loader != nullptr || (s.consumes && s.record.status == "ok");  // parked ones too
      protos_[name] = std::move(proto);
    }
    allowed_ = loaders_per_consumer(o.jobs, consumers);
    if (o.max_workers > 0) budget_ = o.max_workers;
  }
  ~Scheduler() { loaders_.clear(); }  // joins every lane before the sessions they use go

  void add_produce(ProduceJob job) {
    for (auto& p : producers_)
      if (p->env == job.producer) return p->todo.push_back(std::move(job));
    auto lane = std::make_unique<ProducerLane>();
    lane->env = job.producer;
    lane->live = envs_.at(job.producer).worker != nullptr;
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
    if (capped()) stop_idle_producers();
    count_live();
    for (;;) {
      while (!interrupted() && dispatch_one()) {
      }
      if (in_flight_ == 0 && starting_ == 0 && stopping_ == 0) break;
      std::function<void()> done;
      if (inbox_.pop_for(done, kTick)) done();
      sink_.tick();
    }
    if (capped()) log_.info("at most {} workers ran at once (--max-workers {})", peak_, budget_);
  }

 private:
  bool capped() const { return o_.max_workers > 0; }

  int started_lanes(const std::string& env) const {
    int n = 0;
    for (const auto& l : loaders_) n += l->env == env && !l->dead;
    return n;
  }

  int live_workers() const {
    int n = 0;
    for (const auto& p : producers_) n += p->live;
    for (const auto& l : loaders_) n += l->live;
    return n;
  }

  void count_live() { peak_ = std::max(peak_, live_workers()); }

  // A producing worker this run gives nothing to produce (the one that listed the fixtures, when
  // its fixtures are all reused) would run outside the budget to the end: it stops now.
  void stop_idle_producers() {
    for (auto& [name, s] : envs_) {
      bool has_lane = std::any_of(producers_.begin(), producers_.end(), [&](const auto& p) { return p->env == name; });
      if (s.worker && !has_lane) s.worker.reset();
    }
  }

  bool production_left() const {
    return std::any_of(producers_.begin(), producers_.end(), [](const auto& p) { return p->busy || !p->todo.empty(); });
  }

  // Lane 0 takes over the consumer worker the environment started with (on the main thread), or
  // waits parked for its turn when the worker budget stopped it; later lanes start their own, on
  // their own thread, when the queue is longer than the lanes.
  void ensure_loaders(const std::string& env) {
    if (started_lanes(env) == 0) return add_first_loader(env);
    std::size_t queued = queued_[env].size();
    if (protos_.at(env)->record.status == "ok" && should_start_loader(queued, started_lanes(env), allowed_) &&
        live_workers() < budget_)
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
    lane->live = lane->session.loader != nullptr;
    // Unavailable: its loads are settled as such. Parked (only under a budget): it waits its turn.
    lane->started = lane->live || s.record.status != "ok" || !capped();
    lane->thread = std::make_unique<Lane>();
    loaders_.push_back(std::move(lane));
    count_live();
  }

  void add_loader(const std::string& env) {
    auto lane = std::make_unique<LoaderLane>();
    lane->env = env;
    lane->index = started_lanes(env);
    lane->thread = std::make_unique<Lane>();
    loaders_.push_back(std::move(lane));
    start_loader(*loaders_.back());
  }

  // Starts the lane's consumer worker on the lane's own thread. One that cannot start leaves its
  // loads to the environment's other lanes or, when it has none, records them unavailable.
  void start_loader(LoaderLane& l) {
    std::shared_ptr<const EnvSession> proto = protos_.at(l.env);
    l.live = true;
    ++starting_;
    count_live();
    log_.detail("  starting consumer worker #{} of {}", l.index, l.env);
    l.thread->post([this, &l, proto] {
      auto session = another_loader(*proto, l.index, o_.provision);
      inbox_.push([this, &l, proto, session = std::make_shared<Result<EnvSession>>(std::move(session))] {
        --starting_;
        l.live = static_cast<bool>(*session) && (**session).loader != nullptr;
        if (!*session && interrupted()) return void(l.dead = true);
        if (*session) {
          l.session = std::move(**session);
          l.started = true;
          return;
        }
        log_.error("environment {}: a consumer worker could not start ({})", l.env, session->error().message);
        if (started_lanes(l.env) > 1) return void(l.dead = true);  // the others (this lane counts too) load its share
        l.started = true;
        l.session.spec = proto->spec;
        l.session.record = proto->record;
        l.session.record.status = "unavailable";
        l.session.record.reason = "its consumer worker could not start: " + session->error().message;
      });
    });
  }

  // The place is free once the worker has exited (told through the inbox), not when asked to.
  void stop_loader(LoaderLane& l) {
    l.started = false;
    ++stopping_;
    log_.detail("  {}: consumer worker #{} stopped to make room (--max-workers {})", l.env, l.index, budget_);
    l.thread->post([this, &l] {
      l.session.loader.reset();
      inbox_.push([this, &l] { l.live = false, --stopping_; });
    });
  }

  std::vector<WorkerView> worker_views() {
    std::vector<WorkerView> v;
    for (const auto& p : producers_) v.push_back({p->live && !p->busy && !p->stopping, p->todo.size(), false});
    for (const auto& l : loaders_) v.push_back({l->live && l->started && !l->busy, queued_[l->env].size(), true});
    return v;
  }

  // Starts stopping the worker pick_to_stop names (its index in worker_views' order), unless a
  // stop is under way already: the place it frees comes when the worker has exited. False: none.
  bool stop_one_for(bool for_producer) {
    if (stopping_ > 0) return true;
    int i = pick_to_stop(worker_views(), for_producer);
    if (i < 0) return false;
    auto n = static_cast<std::size_t>(i);
    if (n < producers_.size())
      stop_producer(*producers_[n], fmt::format("worker stopped to make room (--max-workers {})", budget_));
    else
      stop_loader(*loaders_[n - producers_.size()]);
    return true;
  }

  // Under --max-workers a parked environment with loads waiting starts its worker when the budget
  // has room beside the places production may need (`jobs` of them, while fixtures are left), or,
  // once production is over, in place of an idle worker with nothing left to load.
  bool wake_one() {
    if (!capped()) return false;
    std::vector<ParkedView> views;
    for (const auto& l : loaders_) views.push_back({l->parked(), protos_.at(l->env)->emulated, queued_[l->env].size()});
    int i = pick_to_wake(views);
    if (i < 0) return false;
    bool producing = production_left();
    if (live_workers() + (producing ? o_.jobs : 0) < budget_) return start_loader(*loaders_[static_cast<std::size_t>(i)]), true;
    if (!producing) stop_one_for(false);  // the wake follows once that worker has exited
    return false;
  }

  // An idle producer with a fixture to produce: one whose worker runs first (the last, as the
  // lanes were added), else one whose worker may start now. Under the budget, failing that, a
  // worker starts stopping to make room for it.
  ProducerLane* next_producer() {
    ProducerLane *live = nullptr, *parked = nullptr;
    for (auto& p : producers_) {
      if (p->busy || p->stopping || p->todo.empty()) continue;
      (p->live ? live : parked) = p.get();
    }
    if (live || !parked) return live;
    if (live_workers() < budget_) return parked;
    stop_one_for(true);
    return nullptr;
  }

  bool dispatch_one() {
    ProducerLane* producer = next_producer();
    // Under a budget production comes before waking a consumer, or the woken one would hold a
    // place the next producer needs.
    if (capped() && producer && in_flight_ < o_.jobs) return start_produce(*producer), true;
    if (wake_one()) return true;
    std::vector<LaneView> views;
    std::size_t queued = 0;
    int lanes = 0;
    for (const auto& l : loaders_) {
      bool ready = l->started && !l->dead;
      views.push_back({ready && !l->busy, ready ? queued_[l->env].size() : 0});
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
    if (!p.live) {
      p.live = true;  // its worker starts on its lane, with the job
      count_live();
    }
    ProduceJob job = std::move(p.todo.front());
    p.todo.pop_front();
    p.busy = true;
    ++in_flight_;
    sink_.working_on(fmt::format("training {} in {}", job.fixture.name, job.producer));
    p.thread.post([this, &p, job = std::move(job)] {
      EnvSession& s = envs_.at(job.producer);
      if (!s.worker && s.record.status == "ok" && !interrupted()) start_parked_producer(s);
      log_.detail("  -> {} worker: train {}, dump {}", job.producer, job.fixture.name, fmt::join(job.formats, ", "));
      // The producer's worker is revived (if it dies) on this thread, which outlives its use.
      auto artifacts = produce_fixture(s, job.fixture, job.formats, o_.artifacts_dir, log_);
      inbox_.push([this, &p, artifacts = std::move(artifacts)] {
        p.busy = false;
        --in_flight_;
        const EnvSession& env = envs_.at(p.env);
        p.live = env.worker && env.worker->running();
        if (p.todo.empty()) retire_producer(p);
        if (interrupted()) return;
        for (const auto& a : artifacts) {
          auto shared = std::make_shared<const ArtifactRecord>(a);
          for (auto& consumer : sink_.produced(a)) add_load({shared, consumer});
        }
      });
    });
  }

  // On the producer lane's thread, which will use it (workers die with the thread that forked them).
  void start_parked_producer(EnvSession& s) {
    log_.detail("  starting the worker of {}", s.spec.name);
    if (auto st = start_producer(s, o_.provision); !st) {
      s.record.status = "unavailable";
      s.record.reason = "its worker could not start again: " + st.error().message;
      log_.error("environment {}: {}", s.spec.name, s.record.reason);
    }
  }

  // A producer with nothing left to train stops its worker: a matrix with many producing
  // environments (full.toml: 34, most under QEMU at 300-600 MB each) otherwise keeps every one of
  // them resident to the end of the run. Stopped on the lane's own thread, which started or
  // revived it, so a slow exit under QEMU does not hold the scheduler.
  void retire_producer(ProducerLane& p) {
    stop_producer(p, "every fixture of the run produced; its worker stopped");
  }

  // Under --max-workers a producer with fixtures left also stops to make room, and starts again
  // for them. Its place is free once the worker has exited.
  void stop_producer(ProducerLane& p, std::string why) {
    p.stopping = true;
    ++stopping_;
    p.thread.post([this, &p, why = std::move(why)] {
      EnvSession& s = envs_.at(p.env);
      if (s.worker) log_.detail("  {}: {}", p.env, why);
      s.worker.reset();
      inbox_.push([this, &p] { p.live = false, p.stopping = false, --stopping_; });
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
        l.live = l.live && l.session.can_load();  // a worker that did not come back holds no place
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
  int budget_ = std::numeric_limits<int>::max();  // workers at once (--max-workers)
  int peak_ = 0;
  int in_flight_ = 0, starting_ = 0, stopping_ = 0;
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
