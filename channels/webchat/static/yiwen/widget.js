/*
 * 邑问 widget — the widget: panel, log, input, connection handling, public API.
 *
 * Loaded last by ../yiwen-widget.js, after state.js, transport.js and render.js.
 */
(function (API, M) {
  "use strict";

  var TEXT = M.state.TEXT;
  var MAX_INPUT = M.state.MAX_INPUT;
  var fmt = M.state.fmt;
  var newId = M.state.newId;
  var Store = M.state.Store;
  var normalise = M.state.normalise;
  var SocketIoClient = M.transport.SocketIoClient;
  var postRest = M.transport.postRest;
  var el = M.render.el;
  var renderText = M.render.renderText;
  var card = M.render.card;
  var useTicketPattern = M.render.useTicketPattern;

  // ---------------------------------------------------------------- the widget
  function Widget(cfg) {
    this.cfg = cfg;
    this.store = new Store(
      cfg.storageKey + ":" + cfg.rasaUrl,
      cfg.maxStoredMessages,
      Number(cfg.sessionIdleMinutes) * 60000
    );
    this.state = this.store.load();
    this.socket = null;
    this.mode = cfg.transport === "rest" ? "rest" : "socket";
    this.everConnected = false;
    this.attempts = 0;
    this.reconnectTimer = null;
    this.settleTimer = null;
    this.replyTimer = null;
    this.noticeTimer = null;
    this.inline = false;
    this.pending = 0;
  }

  Widget.prototype.mount = function () {
    var cfg = this.cfg;
    var host = null;
    if (cfg.container) host = document.querySelector(cfg.container);
    this.inline = !!host;
    if (!host) {
      host = document.createElement("div");
      host.id = "yiwen-widget";
      document.body.appendChild(host);
    }
    host.setAttribute("data-yiwen-widget", "");
    this.host = host;
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    this.root = root;
    if (cfg.cssUrl) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = cfg.cssUrl;
      root.appendChild(link);
    }
    this._build(root);
    this._renderAll();
    var open = this.inline || (this.state.open === null ? !!cfg.open : this.state.open);
    this._setOpen(open, false);
    this._connect();
    var self = this;
    window.addEventListener("online", function () {
      self._reconnectNow();
    });
    window.addEventListener("offline", function () {
      if (self.mode === "socket") self._notice(TEXT.offlineNotice, "warn");
    });
  };

  Widget.prototype._build = function (root) {
    var self = this;
    var cfg = this.cfg;
    var wrap = el("div", "yw-root" + (this.inline ? " yw-inline" : ""));
    root.appendChild(wrap);

    if (!this.inline) {
      var launcher = el("button", "yw-launcher");
      launcher.type = "button";
      launcher.setAttribute("aria-label", TEXT.launcherLabel);
      launcher.setAttribute("aria-controls", "yw-panel");
      launcher.setAttribute("aria-expanded", "false");
      launcher.appendChild(this._icon());
      launcher.appendChild(el("span", "yw-launcher-text", TEXT.launcher));
      launcher.addEventListener("click", function () {
        self._setOpen(true, true);
      });
      wrap.appendChild(launcher);
      this.launcher = launcher;
    }

    var panel = el("section", "yw-panel");
    panel.id = "yw-panel";
    panel.setAttribute("role", this.inline ? "region" : "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "yw-title");
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && !self.inline) {
        ev.stopPropagation();
        self._setOpen(false, true);
      }
    });
    wrap.appendChild(panel);
    this.panel = panel;

    var header = el("header", "yw-header");
    var titles = el("div", "yw-titles");
    var h = el("h2", "yw-title", cfg.title);
    h.id = "yw-title";
    titles.appendChild(h);
    if (cfg.subtitle) titles.appendChild(el("p", "yw-subtitle", cfg.subtitle));
    header.appendChild(titles);
    var reset = el("button", "yw-hbtn yw-reset", TEXT.reset);
    reset.type = "button";
    reset.setAttribute("aria-label", TEXT.resetLabel);
    reset.addEventListener("click", function () {
      if (window.confirm(TEXT.resetConfirm)) self.reset();
    });
    header.appendChild(reset);
    if (!this.inline) {
      var close = el("button", "yw-hbtn yw-close");
      close.type = "button";
      close.setAttribute("aria-label", TEXT.close);
      close.appendChild(el("span", "yw-close-mark"));
      close.addEventListener("click", function () {
        self._setOpen(false, true);
      });
      header.appendChild(close);
    }
    panel.appendChild(header);

    var notice = el("div", "yw-notice");
    notice.setAttribute("role", "status");
    notice.hidden = true;
    this.noticeText = el("span", "yw-notice-text");
    notice.appendChild(this.noticeText);
    this.noticeAction = el("button", "yw-notice-action", TEXT.reconnectNow);
    this.noticeAction.type = "button";
    this.noticeAction.hidden = true;
    this.noticeAction.addEventListener("click", function () {
      self._reconnectNow();
    });
    notice.appendChild(this.noticeAction);
    panel.appendChild(notice);
    this.notice = notice;

    var log = el("div", "yw-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", TEXT.logLabel);
    log.tabIndex = 0;
    panel.appendChild(log);
    this.log = log;

    var typing = el("div", "yw-typing");
    typing.setAttribute("role", "status");
    typing.hidden = true;
    var dots = el("span", "yw-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    typing.appendChild(dots);
    typing.appendChild(el("span", "yw-sr", TEXT.typing));
    panel.appendChild(typing);
    this.typing = typing;

    var form = el("form", "yw-form");
    form.setAttribute("aria-label", TEXT.inputLabel);
    var input = el("textarea", "yw-input");
    input.rows = 1;
    input.placeholder = cfg.placeholder;
    input.maxLength = MAX_INPUT;
    input.setAttribute("aria-label", TEXT.inputLabel);
    input.setAttribute("enterkeyhint", "send");
    input.addEventListener("keydown", function (ev) {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME candidate is not a send.
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        self._submit();
      }
    });
    input.addEventListener("input", function () {
      self._autosize();
    });
    var send = el("button", "yw-send", TEXT.send);
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self._submit();
    });
    panel.appendChild(form);
    this.input = input;
  };

  Widget.prototype._icon = function () {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "yw-icon");
    var path = document.createElementNS(NS, "path");
    path.setAttribute(
      "d",
      "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"
    );
    svg.appendChild(path);
    return svg;
  };

  Widget.prototype._autosize = function () {
    var input = this.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  };

  Widget.prototype._setOpen = function (open, moveFocus) {
    this.panel.hidden = !open;
    this.host.classList.toggle("yw-open", open);
    if (this.launcher) {
      this.launcher.hidden = open;
      this.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (!this.inline) {
      this.state.open = open;
      this.store.save(this.state);
    }
    if (open) {
      this._scroll();
      if (moveFocus) this.input.focus();
    } else if (moveFocus && this.launcher) {
      this.launcher.focus();
    }
  };

  // ------------------------------------------------------------ connection
  Widget.prototype._connect = function () {
    if (this.mode !== "socket") return;
    var self = this;
    var client = new SocketIoClient({
      url: this.cfg.rasaUrl,
      path: this.cfg.socketPath,
      sessionId: this.state.senderId,
      userEvent: this.cfg.userEvent,
      botEvent: this.cfg.botEvent,
      onReady: function () {
        var wasRetrying = self.attempts > 0 && self.everConnected;
        self.everConnected = true;
        self.attempts = 0;
        if (wasRetrying) self._notice(TEXT.reconnected, "ok", 3000);
        else self._hideNotice();
      },
      onMessage: function (raw) {
        self._onBot([raw], false);
      },
      onClose: function () {
        if (self.socket === client) self.socket = null;
        self._onDisconnect();
      },
    });
    this.socket = client;
    client.connect();
  };

  Widget.prototype._onDisconnect = function () {
    var self = this;
    this.attempts += 1;
    if (!this.everConnected && this.cfg.transport === "auto" && this.attempts >= 2) {
      this.mode = "rest"; // socket.io never worked here (proxy, firewall): use REST for good
      this._notice(TEXT.restMode, "info", 6000);
      return;
    }
    var delay = Math.min(1000 * Math.pow(2, this.attempts - 1), 15000);
    if (this.everConnected) {
      this._notice(
        this.attempts > 1 ? fmt(TEXT.reconnecting, { n: this.attempts }) : fmt(TEXT.reconnectIn, { s: delay / 1000 }),
        "warn",
        0,
        true
      );
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(function () {
      self._connect();
    }, delay);
  };

  Widget.prototype._reconnectNow = function () {
    if (this.mode !== "socket" || (this.socket && this.socket.ready)) return;
    clearTimeout(this.reconnectTimer);
    if (this.socket) {
      var old = this.socket;
      this.socket = null;
      old.close();
    }
    this._connect();
  };

  Widget.prototype._notice = function (text, kind, hideAfterMs, withAction) {
    var self = this;
    clearTimeout(this.noticeTimer);
    this.notice.hidden = false;
    this.notice.className = "yw-notice yw-notice-" + kind;
    this.noticeText.textContent = text;
    this.noticeAction.hidden = !withAction;
    if (hideAfterMs) {
      this.noticeTimer = setTimeout(function () {
        self._hideNotice();
      }, hideAfterMs);
    }
  };
  Widget.prototype._hideNotice = function () {
    clearTimeout(this.noticeTimer);
    this.notice.hidden = true;
  };

  // ------------------------------------------------------------ sending
  Widget.prototype._submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_INPUT) {
      this._notice(fmt(TEXT.tooLong, { n: MAX_INPUT }), "warn", 5000);
      return;
    }
    this.input.value = "";
    this._autosize();
    this.send(text, text);
    this.input.focus();
  };

  Widget.prototype.send = function (payload, display) {
    var msg = {
      id: newId(),
      from: "user",
      text: display === undefined ? payload : display,
      payload: payload,
      ts: Date.now(),
      status: "sending",
    };
    this.state.messages.push(msg);
    this._save();
    this._renderAll();
    this._deliver(msg);
  };

  Widget.prototype._deliver = function (msg) {
    var self = this;
    msg.status = "sending";
    this._typing(true);
    if (this.mode === "socket" && this.socket && this.socket.send(msg.payload)) {
      msg.status = "sent";
      this._save();
      this._updateStatus(msg);
      this._armReplyTimer(msg);
      return;
    }
    this.pending += 1;
    postRest(this.cfg.rasaUrl, this.state.senderId, msg.payload, this.cfg.replyTimeoutMs)
      .then(function (res) {
        // Too long (413) or too fast (429): the server explains why, in Chinese, in the
        // channel's own message shape. Show it; the message itself stays retryable.
        if (res.status === 413 || res.status === 429) {
          if (Array.isArray(res.body)) self._onBot(res.body, true);
          throw new Error("HTTP " + res.status);
        }
        if (res.status < 200 || res.status >= 300) throw new Error("HTTP " + res.status);
        msg.status = "sent";
        self._updateStatus(msg);
        self._onBot(Array.isArray(res.body) ? res.body : [], true);
      })
      .catch(function () {
        msg.status = "failed";
        self._save();
        self._updateStatus(msg);
        self._notice(TEXT.sendFailed, "warn", 8000);
      })
      .then(function () {
        self.pending -= 1;
        if (self.pending <= 0) self._typing(false);
      });
  };

  Widget.prototype._armReplyTimer = function (msg) {
    var self = this;
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(function () {
      self._typing(false);
      msg.status = "failed";
      self._save();
      self._updateStatus(msg);
      self._notice(TEXT.noReply, "warn", 10000);
    }, this.cfg.replyTimeoutMs);
  };

  Widget.prototype._typing = function (on) {
    this.typing.hidden = !on;
    if (on) this._scroll();
  };

  // ------------------------------------------------------------ receiving
  Widget.prototype._onBot = function (raws, complete) {
    var self = this;
    clearTimeout(this.replyTimer);
    var added = false;
    raws.forEach(function (raw) {
      var msg = normalise(raw);
      if (!msg) return;
      msg.id = newId();
      msg.from = "bot";
      msg.ts = Date.now();
      self.state.messages.push(msg);
      added = true;
    });
    if (added) {
      this._save();
      this._renderAll();
    }
    if (!complete) {
      // socket.io has no end-of-reply marker: keep the indicator until the bot goes quiet.
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(function () {
        if (self.pending <= 0) self._typing(false);
      }, 1200);
    }
  };

  // ------------------------------------------------------------ rendering
  Widget.prototype._save = function () {
    this.store.save(this.state);
  };

  Widget.prototype._lastUserIndex = function () {
    for (var i = this.state.messages.length - 1; i >= 0; i--) {
      if (this.state.messages[i].from === "user") return i;
    }
    return -1;
  };

  Widget.prototype._renderAll = function () {
    var self = this;
    var log = this.log;
    var existing = {};
    Array.prototype.forEach.call(log.children, function (node) {
      existing[node.getAttribute("data-id")] = node;
    });
    if (!log.querySelector(".yw-welcome")) log.insertBefore(this._welcome(), log.firstChild);
    var lastUser = this._lastUserIndex();
    this.state.messages.forEach(function (msg, i) {
      var node = existing[msg.id];
      var active = msg.from === "bot" && i > lastUser;
      if (!node) {
        node = self._renderMessage(msg);
        log.appendChild(node);
      }
      var group = node.querySelector(".yw-replies");
      if (group) self._setRepliesActive(group, active, msg.chosen);
    });
    this._setRepliesActive(log.querySelector(".yw-welcome .yw-replies"), this.state.messages.length === 0);
    this._scroll();
  };

  /* Render the log again, e.g. once ticket references can be marked up. */
  Widget.prototype._rerender = function () {
    if (!this.state.messages.length) return;
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    this._renderAll();
  };

  Widget.prototype._welcome = function () {
    var self = this;
    var node = el("div", "yw-msg yw-bot yw-welcome");
    node.setAttribute("data-id", "welcome");
    var bubble = el("div", "yw-bubble");
    bubble.appendChild(el("span", "yw-sr", TEXT.botSays));
    bubble.appendChild(renderText(this.cfg.welcome));
    node.appendChild(bubble);
    var suggestions = (this.cfg.suggestions || []).map(function (s) {
      return typeof s === "string" ? { title: s, payload: s } : s;
    });
    if (suggestions.length) node.appendChild(this._replies(suggestions, null));
    return node;
  };

  Widget.prototype._renderMessage = function (msg) {
    var node = el("div", "yw-msg " + (msg.from === "user" ? "yw-user" : "yw-bot"));
    node.setAttribute("data-id", msg.id);
    if (msg.from === "user") {
      var ub = el("div", "yw-bubble");
      ub.appendChild(el("span", "yw-sr", TEXT.userSays));
      ub.appendChild(document.createTextNode(msg.text));
      node.appendChild(ub);
      var status = el("div", "yw-status");
      node.appendChild(status);
      this._fillStatus(status, msg);
      return node;
    }
    // A structured reply is drawn from its payload; the text is its fallback.
    var drawn = card(msg);
    if (drawn) {
      node.appendChild(drawn);
    } else if (typeof msg.text === "string" && msg.text.trim()) {
      var bubble = el("div", "yw-bubble");
      bubble.appendChild(el("span", "yw-sr", TEXT.botSays));
      bubble.appendChild(renderText(msg.text));
      node.appendChild(bubble);
    }
    if (msg.image && /^https?:\/\//i.test(msg.image)) {
      var img = el("img", "yw-image");
      img.src = msg.image;
      img.alt = "";
      img.loading = "lazy";
      node.appendChild(img);
    }
    if (msg.buttons && msg.buttons.length) node.appendChild(this._replies(msg.buttons, msg));
    return node;
  };

  Widget.prototype._replies = function (buttons, msg) {
    var self = this;
    var group = el("div", "yw-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXT.quickReplies);
    buttons.forEach(function (b) {
      var btn = el("button", "yw-reply", b.title);
      btn.type = "button";
      btn.setAttribute("data-title", b.title);
      btn.addEventListener("click", function () {
        if (btn.disabled) return;
        if (msg) {
          msg.chosen = b.title;
          self._save();
        }
        self.send(b.payload, b.title);
        self.input.focus();
      });
      group.appendChild(btn);
    });
    return group;
  };

  Widget.prototype._setRepliesActive = function (group, active, chosen) {
    if (!group) return;
    group.classList.toggle("yw-replies-used", !active);
    Array.prototype.forEach.call(group.querySelectorAll(".yw-reply"), function (btn) {
      btn.disabled = !active;
      var picked = chosen && btn.getAttribute("data-title") === chosen;
      btn.classList.toggle("yw-reply-chosen", !!picked);
      btn.setAttribute("aria-pressed", picked ? "true" : "false");
    });
  };

  Widget.prototype._fillStatus = function (status, msg) {
    var self = this;
    while (status.firstChild) status.removeChild(status.firstChild);
    status.hidden = msg.status !== "failed";
    if (msg.status !== "failed") return;
    status.appendChild(el("span", "yw-failed", TEXT.failed));
    var retry = el("button", "yw-retry", TEXT.retry);
    retry.type = "button";
    retry.setAttribute("aria-label", TEXT.retryLabel);
    retry.addEventListener("click", function () {
      self._deliver(msg);
      self._updateStatus(msg);
      self.input.focus();
    });
    status.appendChild(retry);
  };

  Widget.prototype._updateStatus = function (msg) {
    var node = this.log.querySelector('[data-id="' + msg.id + '"] .yw-status');
    if (node) this._fillStatus(node, msg);
  };

  Widget.prototype._scroll = function () {
    var log = this.log;
    window.requestAnimationFrame(function () {
      log.scrollTop = log.scrollHeight;
    });
  };

  // ------------------------------------------------------------ public API
  Widget.prototype.reset = function () {
    clearTimeout(this.replyTimer);
    this._typing(false);
    this.state = { v: 1, senderId: newId(), open: this.state.open, messages: [] };
    this._save();
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    this._renderAll();
    if (this.socket) {
      var old = this.socket;
      this.socket = null;
      old.close();
    }
    clearTimeout(this.reconnectTimer);
    this.attempts = 0;
    this._connect();
    this.input.focus();
  };

  /* The server's settings: from YiwenConfig when the page has them, else config.json. */
  function loadServerConfig(cfg, onPattern) {
    if (useTicketPattern(cfg.ticketRefPattern) || !cfg.configUrl || !window.fetch) return;
    fetch(cfg.configUrl, { credentials: "omit" })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (server) {
        if (server && useTicketPattern(server.ticketRefPattern)) onPattern();
      })
      .catch(function () {
        /* no config: links are still marked up, ticket numbers stay plain text */
      });
  }

  function start() {
    var cfg = M.state.readConfig(API._script);
    var widget = new Widget(cfg);
    widget.mount();
    loadServerConfig(cfg, function () {
      widget._rerender();
    });
    API.version = "1.0.0";
    API.open = function () {
      widget._setOpen(true, true);
    };
    API.close = function () {
      widget._setOpen(false, true);
    };
    API.send = function (text) {
      if (typeof text === "string" && text.trim()) widget.send(text.trim(), text.trim());
    };
    API.reset = function () {
      widget.reset();
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(window.YiwenWidget, window.YiwenWidget._modules);
