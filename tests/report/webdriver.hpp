// A minimal WebDriver client for the report tests: opens generated HTML pages in Debian's headless
// Chromium through chromedriver, runs JavaScript in them, reads the browser console's errors and
// takes screenshots. Usage:
//   quarry::test::WebDriver browser;  // Needs WebDriver::available().
//   browser.open("file://" + html_path);  EXPECT_TRUE(browser.console_errors().empty());
//   EXPECT_EQ(browser.execute("return document.title;"), "Study");  browser.screenshot(png_path);
//
// Each WebDriver starts its own chromedriver (on a free loopback port, in its own process group,
// under a forked guardian) and one browser session; the destructor ends both and kills whatever
// is left in that group. When the test process dies, the guardian does that.
// Every failed command throws std::runtime_error naming the command and chromedriver's message.
// It speaks HTTP to chromedriver itself: Debian's cpp-httplib is a compiled library (built with
// -DCPPHTTPLIB_OPENSSL_SUPPORT etc.), and this header should need no link flags.
//
// Pitfalls: Chromium runs with --no-sandbox (the tests run as root) and --disable-dev-shm-usage
// (small /dev/shm in containers). A file:// page cannot fetch() other files, and an image loaded
// from file:// taints a canvas (getImageData throws). Chromium's helper processes are orphaned at
// exit and reaped by PID 1, so they may linger briefly as zombies (dead, state Z).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace quarry::test {

/// One headless Chromium session driven over WebDriver (see the top of this file).
class WebDriver {
 public:
  static constexpr const char* kChromium = "/usr/bin/chromium";
  static constexpr const char* kChromedriver = "/usr/bin/chromedriver";
  /// The tallest window screenshot(full_page = true) makes.
  static constexpr int kMaxScreenshotHeight = 16000;
  /// Seconds one command may take (page loads included).
  static constexpr int kCommandTimeout = 120;

  /// True when Chromium and chromedriver are installed.
  static bool available() {
    return ::access(kChromium, X_OK) == 0 && ::access(kChromedriver, X_OK) == 0;
  }

  /// Starts chromedriver and a browser session with a 1280x2000 window. chromedriver's own log
  /// goes to `log_path` when given (else nowhere). std::runtime_error when either fails to start
  /// within 20 s.
  explicit WebDriver(const std::string& log_path = "") {
    start_chromedriver(log_path);
    try {
      const nlohmann::json capabilities = {
          {"browserName", "chrome"},
          {"goog:chromeOptions",
           {{"binary", kChromium},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,2000"}}}},
          {"goog:loggingPrefs", {{"browser", "ALL"}}}};
      const auto value = command("new session", "POST", "/session",
                                 {{"capabilities", {{"alwaysMatch", capabilities}}}});
      session_ = "/session/" + value.at("sessionId").get<std::string>();
    } catch (...) {
      stop_chromedriver();
      throw;
    }
  }

  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  /// Ends the session (closing the browser), then chromedriver: SIGTERM, SIGKILL after 3 s, and
  /// SIGKILL to anything still in its process group (see guard()).
  ~WebDriver() {
    if (!session_.empty()) {
      try {
        command("delete session", "DELETE", session_);
      } catch (...) {
        // The group kill below still ends the browser.
      }
    }
    stop_chromedriver();
  }

  /// Loads `url` (file:// or http://127.0.0.1:...) and waits until its load event has fired.
  void open(const std::string& url) {
    command("navigate to " + url, "POST", "/url", {{"url", url}});
  }

  /// Runs `script` as the body of a function in the page, with `args` as its `arguments`; what it
  /// returns (DOM elements come back as WebDriver element references). A script that throws is a
  /// std::runtime_error with the JavaScript error's message.
  nlohmann::json execute(const std::string& script, nlohmann::json args = nlohmann::json::array()) {
    return command("execute script", "POST", "/execute/sync",
                   {{"script", script}, {"args", std::move(args)}});
  }

  /// The messages of the browser console's SEVERE entries logged since the session started or
  /// the previous call (reading empties the log): uncaught exceptions ("... Uncaught Error:
  /// boom"), console.error() calls and resources that failed to load (but /favicon.ico). A page
  /// that could not be loaded at all (connection refused) is not an entry: check its content.
  std::vector<std::string> console_errors() {
    const auto entries = command("get browser log", "POST", "/se/log", {{"type", "browser"}});
    std::vector<std::string> errors;
    for (const auto& entry : entries) {
      const std::string message = entry.value("message", "");
      // Chromium asks http:// servers for /favicon.ico by itself: not the page's error.
      if (entry.value("level", "") == "SEVERE" &&
          message.find("/favicon.ico ") == std::string::npos)
        errors.push_back(message);
    }
    return errors;
  }

  /// Writes a PNG of the page to `path`. With `full_page`, the window is first made as tall as the
  /// document (at most kMaxScreenshotHeight pixels) and restored afterwards; else it is the
  /// current viewport.
  void screenshot(const std::string& path, bool full_page = true) {
    nlohmann::json saved;
    if (full_page) {
      saved = command("get window rect", "GET", "/window/rect");
      // The window's height is its outer height: add what is not viewport.
      const auto size = execute(
          "return [document.documentElement.scrollHeight, window.outerHeight - "
          "window.innerHeight];");
      const int height = std::min(kMaxScreenshotHeight,
                                  size.at(0).get<int>() + std::max(0, size.at(1).get<int>()));
      if (height != saved.at("height").get<int>())
        command("set window rect", "POST", "/window/rect",
                {{"width", saved.at("width")}, {"height", height}});
      else
        saved = nullptr;
    }
    const auto png =
        decode_base64(command("take screenshot", "GET", "/screenshot").get<std::string>());
    if (saved.is_object())
      command("set window rect", "POST", "/window/rect",
              {{"width", saved.at("width")}, {"height", saved.at("height")}});
    std::ofstream out(path, std::ios::binary);
    out.write(png.data(), static_cast<std::streamsize>(png.size()));
    out.close();
    if (!out) throw std::runtime_error("WebDriver screenshot: cannot write " + path);
  }

  /// Polls the JavaScript expression `js_condition` every 100 ms until it is truthy (true) or
  /// `seconds` have passed (false). A condition that throws is a std::runtime_error.
  bool wait_for(const std::string& js_condition, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      if (execute("return !!(" + js_condition + ");").get<bool>()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  /// Sends one WebDriver command: `path` is relative to the session unless it starts with
  /// "/session". Its "value"; std::runtime_error naming `name` and chromedriver's error and
  /// message when it fails.
  nlohmann::json command(const std::string& name, const std::string& method,
                         const std::string& path, const nlohmann::json& body = nullptr) {
    const std::string target = path.rfind("/session", 0) == 0 ? path : session_ + path;
    int status = 0;
    std::string text;
    std::string problem =
        http(method, target, method == "POST" ? (body.is_null() ? "{}" : body.dump()) : "",
             kCommandTimeout, status, text);
    if (!problem.empty())
      throw std::runtime_error("WebDriver " + name + ": no answer from chromedriver: " + problem);
    const auto reply = nlohmann::json::parse(text, nullptr, false);
    if (reply.is_discarded() || !reply.is_object() || !reply.contains("value"))
      throw std::runtime_error("WebDriver " + name + ": HTTP " + std::to_string(status) +
                               ", not a WebDriver reply: " + text.substr(0, 200));
    const auto& value = reply["value"];
    if (status != 200 || (value.is_object() && value.contains("error"))) {
      // message is "<error>: <text>\n  (Session info: ...)"; keep "<error>: <text>".
      std::string message = value.is_object() ? value.value("message", "") : value.dump();
      message = message.substr(0, message.find("\n  (Session info:"));
      const std::string error = value.is_object() ? value.value("error", "") : "";
      if (message.rfind(error, 0) != 0) message = error + ": " + message;
      throw std::runtime_error("WebDriver " + name + " failed: " + message);
    }
    return value;
  }

 private:
  /// One HTTP/1.1 exchange with chromedriver (a new loopback connection each time; chromedriver
  /// always sends Content-Length). "" with `status` and `body` set, else what went wrong.
  std::string http(const std::string& method, const std::string& target, const std::string& data,
                   int timeout_s, int& status, std::string& body) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + std::strerror(errno);
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      return "connect to 127.0.0.1:" + std::to_string(port_) + ": " + std::strerror(errno);
    std::string request = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                          "\r\nConnection: close\r\n";
    if (method == "POST")
      request += "Content-Type: application/json; charset=utf-8\r\nContent-Length: " +
                 std::to_string(data.size()) + "\r\n";
    request += "\r\n" + data;
    for (std::size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EINTR) return std::string("send: ") + std::strerror(errno);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    // Read until the headers and Content-Length bytes of body are in (or the peer closes).
    std::string reply;
    std::size_t header_end = std::string::npos, length = std::string::npos;
    char buffer[65536];
    while (header_end == std::string::npos || length == std::string::npos ||
           reply.size() < header_end + length) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      pollfd p{fd, POLLIN, 0};
      const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return "no reply within " + std::to_string(timeout_s) + " s";
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::string("recv: ") + std::strerror(errno);
      if (n == 0) {
        if (header_end != std::string::npos && length == std::string::npos) break;
        return "connection closed after " + std::to_string(reply.size()) + " bytes";
      }
      reply.append(buffer, static_cast<std::size_t>(n));
      if (header_end == std::string::npos &&
          (header_end = reply.find("\r\n\r\n")) != std::string::npos) {
        header_end += 4;
        std::string headers = reply.substr(0, header_end);
        for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (const auto at = headers.find("\r\ncontent-length:"); at != std::string::npos)
          length = std::strtoul(headers.c_str() + at + 17, nullptr, 10);
      }
    }
    if (reply.compare(0, 5, "HTTP/") != 0 || reply.find(' ') == std::string::npos)
      return "not an HTTP reply: " + reply.substr(0, 100);
    status = std::atoi(reply.c_str() + reply.find(' ') + 1);
    body = reply.substr(header_end, length);
    return "";
  }

  /// A TCP port on 127.0.0.1 that is free right now.
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      throw std::runtime_error("WebDriver: socket() failed: " + std::string(strerror(errno)));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!ok)
      throw std::runtime_error("WebDriver: no free loopback port: " + std::string(strerror(errno)));
    return ntohs(address.sin_port);
  }

  /// Starts chromedriver on a free port and waits for its /status to say ready; a few tries, as
  /// another process may take the port first.
  void start_chromedriver(const std::string& log_path) {
    std::string last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const int port = free_port();
      const std::string port_arg = "--port=" + std::to_string(port);
      const std::string log_arg = "--log-path=" + log_path;
      std::vector<char*> argv = {const_cast<char*>(kChromedriver),
                                 const_cast<char*>(port_arg.c_str())};
      if (!log_path.empty()) argv.push_back(const_cast<char*>(log_arg.c_str()));
      argv.push_back(nullptr);
      int pipe_fds[2];
      if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::runtime_error("WebDriver: pipe2() failed: " + std::string(strerror(errno)));
      guardian_ = ::fork();
      if (guardian_ < 0) {
        const int err = errno;
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        throw std::runtime_error("WebDriver: fork() failed: " + std::string(strerror(err)));
      }
      if (guardian_ == 0) guard(pipe_fds[0], argv.data());  // Never returns.
      ::close(pipe_fds[0]);
      lifeline_ = pipe_fds[1];
      ::setpgid(guardian_, guardian_);  // Also here: the group exists before kill(-guardian_).
      port_ = port;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < deadline) {
        siginfo_t info{};
        if (::waitid(P_PID, guardian_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == guardian_) {
          last_error = info.si_code == CLD_EXITED
                           ? "it exited with status " + std::to_string(info.si_status)
                           : "it was killed by signal " + std::to_string(info.si_status);
          break;
        }
        int status = 0;
        std::string body;
        if (http("GET", "/status", "", 2, status, body).empty() && status == 200) {
          const auto reply = nlohmann::json::parse(body, nullptr, false);
          if (!reply.is_discarded() && reply.contains("value") &&
              reply["value"].value("ready", false))
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (last_error.empty())
        last_error = "chromedriver on port " + std::to_string(port) + " not ready after 20 s";
      stop_chromedriver();
    }
    throw std::runtime_error("WebDriver: cannot start " + std::string(kChromedriver) + ": " +
                             last_error + (log_path.empty() ? "" : " (log: " + log_path + ")"));
  }

  /// The forked child: leads a new process group, starts chromedriver in it and waits until
  /// `lifeline` (the read end of a pipe the parent holds) reaches end of file: the destructor
  /// closed it, or the test process died. Then SIGTERM to chromedriver, SIGKILL after 3 s, and
  /// SIGKILL to the whole group, so that no browser outlives the test even when it crashes.
  /// Exits with chromedriver's status if that ends first (the parent then kills the group).
  /// Only async-signal-safe calls: the parent may have other threads.
  [[noreturn]] static void guard(int lifeline, char* const* argv) noexcept {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);  // Ignored ones too.
    lifeline = ::fcntl(lifeline, F_DUPFD, 3);                     // Out of the way of 0, 1 and 2.
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (lifeline != 3) ::dup2(lifeline, 3);
    ::close_range(4, ~0U, 0);
    const pid_t driver = ::fork();
    if (driver == 0) {
      ::close(3);
      ::execv(argv[0], argv);
      ::_exit(127);
    }
    int status = 0;
    for (;;) {
      if (driver < 0 || ::waitpid(driver, &status, WNOHANG) == driver)
        ::_exit(driver < 0 ? 126 : WIFEXITED(status) ? WEXITSTATUS(status) : 128);
      pollfd p{3, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) break;  // End of file: time to stop.
    }
    ::kill(driver, SIGTERM);
    const timespec tick{0, 20'000'000};
    for (int i = 0; i < 150 && ::waitpid(driver, &status, WNOHANG) == 0; ++i)
      ::nanosleep(&tick, nullptr);
    ::kill(0, SIGKILL);  // The browser, chromedriver if still there, and this process.
    ::_exit(0);
  }

  /// Closes the lifeline, so that the guardian stops chromedriver and kills its process group
  /// (see guard()), waits up to 5 s for it to end, then SIGKILL to whatever is left in the group
  /// (all of it when the guardian is stuck, the browser when chromedriver died on its own) and
  /// reaps the guardian. The group is killed before the guardian is reaped: until then its id
  /// cannot be reused.
  void stop_chromedriver() noexcept {
    if (lifeline_ >= 0) ::close(lifeline_);
    lifeline_ = -1;
    if (guardian_ <= 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    siginfo_t info{};
    while (::waitid(P_PID, guardian_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid != guardian_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::kill(-guardian_, SIGKILL);
    ::waitpid(guardian_, nullptr, 0);
    guardian_ = -1;
  }

  /// Decodes standard base64 (whitespace ignored, '=' padding optional).
  static std::string decode_base64(const std::string& text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    unsigned bits = 0;
    int count = 0;
    for (const char c : text) {
      int v;
      if (c >= 'A' && c <= 'Z')
        v = c - 'A';
      else if (c >= 'a' && c <= 'z')
        v = c - 'a' + 26;
      else if (c >= '0' && c <= '9')
        v = c - '0' + 52;
      else if (c == '+')
        v = 62;
      else if (c == '/')
        v = 63;
      else if (c == '=')
        break;
      else if (c == '\n' || c == '\r' || c == ' ')
        continue;
      else
        throw std::runtime_error("WebDriver take screenshot: bad base64 character");
      bits = (bits << 6) | static_cast<unsigned>(v);
      if (++count == 4) {
        out.push_back(static_cast<char>(bits >> 16));
        out.push_back(static_cast<char>(bits >> 8 & 0xFF));
        out.push_back(static_cast<char>(bits & 0xFF));
        bits = 0;
        count = 0;
      }
    }
    if (count == 1) throw std::runtime_error("WebDriver take screenshot: truncated base64");
    if (count >= 2) out.push_back(static_cast<char>(bits >> (count == 2 ? 4 : 10)));
    if (count == 3) out.push_back(static_cast<char>(bits >> 2 & 0xFF));
    return out;
  }

  pid_t guardian_ = -1;  // The process that runs chromedriver and leads its process group.
  int lifeline_ = -1;    // The write end of the guardian's lifeline pipe.
  int port_ = 0;
  std::string session_;  // "/session/<id>", "" before the session exists.
};

}  // namespace quarry::test
