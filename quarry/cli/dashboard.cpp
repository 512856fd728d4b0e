// `quarry dashboard`: every study of a store in the browser, updating while searches run. A
// read-only web server (cpp-httplib) on loopback unless --host says otherwise:
//   /                                   the studies, with links
//   /studies/NAME                       a study's charts (report/study_page.hpp's live page)
//   /api/studies                        [{name, directions, metrics, trials, complete, best}]
//   /api/studies/NAME                   the study without its trials: space, importance, contour...
//   /api/studies/NAME/trials?after=N    the trials numbered above N, and "settled"
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/core/error.hpp"
#include "quarry/report/html.hpp"
#include "quarry/report/study_page.hpp"
#include "quarry/schedulers/hyperband.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::cli {

namespace {

// Seconds between two computations of a study's importance and contour while trials arrive
// (the forest and the contour take about 2 s at 10,000 trials).
constexpr double kMetaSeconds = 5;

std::string url_component(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// The store as the dashboard reads it: one connection, one request at a time; the studies'
/// summaries (importance, contour) cached while trials arrive.
class Dashboard {
 public:
  Dashboard(std::shared_ptr<storage::Storage> storage, std::string shown)
      : storage_(std::move(storage)), shown_(std::move(shown)) {}

  /// nullopt when the store has no study of that name.
  std::optional<report::StudyData> load(const std::string& name, bool with_trials) {
    std::lock_guard lock(mutex_);
    if (!storage_->find_study(name)) return std::nullopt;
    Study study = Study::open(storage_, name);
    report::StudyData data{.name = name,
                           .storage = shown_,
                           .space = study.space(),
                           .directions = study.directions(),
                           .metrics = metric_names(study),
                           .trials = {}};
    if (with_trials) {
      data.trials = study.trials();
      data.hyperband = storage_->get_attr(study.id(), schedulers::kHyperbandStateAttr).value_or("");
    }
    return data;
  }

  nlohmann::json studies() {
    std::vector<storage::StudyInfo> infos;
    {
      std::lock_guard lock(mutex_);
      infos = storage_->list_studies();
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& info : infos) {
      const auto data = load(info.name, true);
      if (!data) continue;
      std::int64_t complete = 0;
      std::optional<double> best;
      const bool maximize = !data->directions.empty() && data->directions[0] == Direction::Maximize;
      for (const auto& t : data->trials) {
        if (t.state != TrialState::Complete || t.values.empty()) continue;
        ++complete;
        if (std::isfinite(t.values[0]) &&
            (!best || (maximize ? t.values[0] > *best : t.values[0] < *best)))
          best = t.values[0];
      }
      nlohmann::json directions = nlohmann::json::array();
      for (auto d : data->directions) directions.push_back(study::to_string(d));
      out.push_back({{"name", info.name},
                     {"directions", directions},
                     {"metrics", data->metrics},
                     {"trials", data->trials.size()},
                     {"complete", complete},
                     {"best", best ? nlohmann::json(*best) : nlohmann::json(nullptr)}});
    }
    return out;
  }

  /// The study without its trials; importance and contour are computed again when the number of
  /// complete trials changed, at most every kMetaSeconds.
  std::optional<nlohmann::json> meta(const std::string& name) {
    auto data = load(name, true);
    if (!data) return std::nullopt;
    const auto complete = std::count_if(data->trials.begin(), data->trials.end(),
                                        [](auto& t) { return t.state == TrialState::Complete; });
    {
      std::lock_guard lock(mutex_);
      const auto it = meta_.find(name);
      if (it != meta_.end() &&
          (it->second.complete == complete || seconds_now() - it->second.at < kMetaSeconds)) {
        auto cached = it->second.json;
        cached["trial_count"] = data->trials.size();
        return cached;
      }
    }
    auto json = report::study_json(*data, false);  // outside the lock: the forest takes a while
    std::lock_guard lock(mutex_);
    meta_[name] = {complete, seconds_now(), json};
    return json;
  }

  std::optional<nlohmann::json> trials(const std::string& name, std::int64_t after) {
    const auto data = load(name, true);
    if (!data) return std::nullopt;
    return report::trials_json(data->trials, after);
  }

  std::string index_page() {
    const auto list = studies();
    std::vector<std::vector<report::Cell>> rows;
    for (const auto& s : list) {
      const std::string name = s["name"];
      rows.push_back(
          {report::html_cell("<a href=\"/studies/" + url_component(name) + "\">" +
                             report::escape(name) + "</a>"),
           report::text_cell(s["directions"].size() > 1 ? "several objectives"
                                                        : s["directions"][0].get<std::string>()),
           report::int_cell(s["trials"].get<long long>()),
           report::int_cell(s["complete"].get<long long>()),
           s["best"].is_null() ? report::text_cell("-")
                               : report::number_cell(s["best"].get<double>(), 6)});
    }
    std::string body =
        rows.empty() ? report::paragraph("The store has no study yet.", "note")
                     : report::table({"study", "direction", "trials", "complete", "best"}, rows);
    report::PageOptions options;
    options.subtitle_html = "<p class=\"note\">" + report::escape(shown_) +
                            " (read-only; this list refreshes every 5 s)</p>";
    options.scripts = {"setTimeout(() => location.reload(), 5000);"};
    return report::page("Quarry dashboard", {{.title = "Studies", .html = body, .id = "studies"}},
                        options);
  }

 private:
  struct Meta {
    std::int64_t complete = -1;
    double at = 0;
    nlohmann::json json;
  };
  std::mutex mutex_;
  std::shared_ptr<storage::Storage> storage_;
  std::string shown_;
  std::map<std::string, Meta> meta_;
};

void send_json(httplib::Response& res, const nlohmann::json& json) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(json.dump(), "application/json");
}

void not_found(httplib::Response& res, const std::string& name) {
  res.status = 404;
  res.set_content("no study named '" + name + "' in this store\n", "text/plain; charset=utf-8");
}

}  // namespace

int dashboard_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "host", "port"});
  if (args.positionals().size() > 1)
    throw CommandLineError("dashboard: expected at most one study file, got " +
                           std::to_string(args.positionals().size()));
  std::string url, study;
  if (!args.positionals().empty()) {
    const auto file = config::load_study_file(args.positionals()[0]);
    url = file.storage;
    study = file.study;
  }
  if (auto s = args.get("storage")) url = *s;
  if (url.empty()) throw CommandLineError("dashboard: name a study file or --storage URL");
  const std::string host = args.get("host").value_or("127.0.0.1");
  const auto port = args.integer("port", 0).value_or(8080);
  if (port > 65535) throw CommandLineError("--port must be <= 65535, got " + std::to_string(port));

  require_existing_store(url);
  Dashboard dashboard(storage::open_storage_for_reading(url), storage::shown_url(url));
  if (!study.empty() && !dashboard.load(study, false))
    throw InvalidArgument("no study named '" + study + "' in " + storage::shown_url(url) +
                          " (a search creates it)");

  httplib::Server server;
  // One request per connection: a page polling every second would otherwise hold a connection
  // (and a thread) open, and a stop would wait for it.
  server.set_keep_alive_max_count(1);
  // No compression: Debian's httplib answers a browser (Accept-Encoding: br) with Brotli at its
  // slowest level, 8.6 s for the 5 MB of 10,000 trials that take 0.2 s to send on loopback. The
  // request is the server's own object (httplib passes it as const).
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's default is SO_REUSEPORT, with which a second dashboard would share the port
  // silently; SO_REUSEADDR alone still restarts at once on a port in TIME_WAIT.
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(what + "\n", "text/plain; charset=utf-8");
      });
  server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(dashboard.index_page(), "text/html; charset=utf-8");
  });
  server.Get("/api/studies", [&](const httplib::Request&, httplib::Response& res) {
    send_json(res, dashboard.studies());
  });
  server.Get(R"(/studies/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const auto data = dashboard.load(name, false);
    if (!data) return not_found(res, name);
    res.set_content(report::live_study_page(*data, "/api/studies/" + url_component(name)),
                    "text/html; charset=utf-8");
  });
  server.Get(R"(/api/studies/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const auto json = dashboard.meta(name);
    if (!json) return not_found(res, name);
    send_json(res, *json);
  });
  server.Get(R"(/api/studies/([^/]+)/trials)",
             [&](const httplib::Request& req, httplib::Response& res) {
               const std::string name = req.matches[1];
               std::int64_t after = -1;
               if (req.has_param("after")) {
                 const auto text = req.get_param_value("after");
                 std::size_t used = 0;
                 try {
                   after = std::stoll(text, &used);
                 } catch (const std::exception&) {
                   used = 0;
                 }
                 if (used == 0 || used != text.size()) {
                   res.status = 400;
                   res.set_content("after must be a trial number, got '" + text + "'\n",
                                   "text/plain; charset=utf-8");
                   return;
                 }
               }
               const auto json = dashboard.trials(name, after);
               if (!json) return not_found(res, name);
               send_json(res, *json);
             });

  int bound = static_cast<int>(port);
  if (port == 0)
    bound = server.bind_to_any_port(host);
  else if (!server.bind_to_port(host, static_cast<int>(port)))
    bound = -1;
  if (bound <= 0)
    throw InvalidArgument("cannot listen on " + host + ":" + std::to_string(port) +
                          ": the port is in use or the address is not this machine's (pick "
                          "another with --port or --host)");
  const std::string base = "http://" + host + ":" + std::to_string(bound);
  std::cout << "dashboard: " << base << "/"
            << (study.empty() ? "" : "studies/" + url_component(study)) << " ("
            << storage::shown_url(url) << ", read-only; Ctrl-C stops it)" << std::endl;

  // Ctrl-C, SIGTERM or SIGHUP: stop serving (the handler only sets the flag).
  const auto& stop = install_interrupt_handlers("\nquarry: stopping the dashboard\n");
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (stop.load()) server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  server.listen_after_bind();
  done.store(true);
  watcher.join();
  std::cout << "dashboard stopped" << std::endl;
  return 0;
}

}  // namespace quarry::cli
