/*
 * 邑问 Yiwen — embeddable chat widget for the Jiangmen market-regulation bureau.
 *
 * Embedding: one <script src=".../widget/yiwen-widget.js"> tag, configured by
 * window.YiwenConfig = {rasaUrl, title, ...} and/or data-* attributes on the tag.
 * What belongs to the server (the ticket-reference pattern, core/ticket_ref.py) comes
 * from it: the demo page puts it in YiwenConfig, other pages get config.json next to
 * this script. The format is never copied here.
 *
 * Why it is written this way:
 * - No build step and no third-party code: the socket.io client below speaks just
 *   the part of Engine.IO v4 / Socket.IO v5 that Rasa's channel needs (WebSocket
 *   transport, default namespace, events), and falls back to Rasa's REST channel.
 * - Every piece of bot or user text reaches the page through textContent or
 *   createTextNode. Nothing from the network is ever parsed as HTML.
 * - The UI lives in a shadow root, so the host page's CSS cannot break it.
 */
(function () {
  "use strict";

  if (window.YiwenWidget) {
    return; // embedded twice: keep the first instance
  }
  var API = (window.YiwenWidget = {});

  var SCRIPT = document.currentScript;

  var DEFAULTS = {
    rasaUrl: "http://127.0.0.1:5005",
    title: "邑问",
    subtitle: "江门市市场监督管理局 · 智能咨询",
    // "auto": socket.io, switching to REST for good if socket.io never connects;
    // "socketio": keep retrying socket.io; "rest": REST only. While a socket is down,
    // messages go over REST in every mode.
    transport: "auto",
    socketPath: "/socket.io/",
    userEvent: "user_uttered",
    botEvent: "bot_uttered",
    welcome:
      "您好！我是邑问，江门市市场监督管理局的智能助手。\n" +
      "我可以解答市场监管政策问题（如个体工商户转企业、经营许可），" +
      "也可以帮您提交消费投诉或举报、查询办理进度。",
    suggestions: ["个转企需要满足什么条件？", "我要投诉", "查询投诉办理进度"],
    placeholder: "请输入您的问题，按回车发送",
    open: false, // start with the panel open
    container: null, // CSS selector: render inline in this element instead of floating
    storageKey: "yiwen-widget",
    cssUrl: null,
    configUrl: null, // server settings (ticketRefPattern); default: config.json beside the script
    ticketRefPattern: null,
    replyTimeoutMs: 60000,
    maxStoredMessages: 200,
  };

  var TEXT = {
    launcher: "在线咨询",
    launcherLabel: "打开邑问在线咨询",
    dialogLabel: "邑问在线咨询",
    close: "收起对话窗口",
    reset: "新对话",
    resetLabel: "开始新对话（清除当前记录）",
    resetConfirm: "开始新对话？当前的对话记录将被清除。",
    send: "发送",
    inputLabel: "输入您的问题",
    logLabel: "对话记录",
    botSays: "邑问：",
    userSays: "我：",
    typing: "邑问正在输入…",
    quickReplies: "可选回复",
    chosen: "（已选择）",
    citations: "引用依据",
    summaryTitle: "投诉信息摘要",
    summaryHint: "请核对以上信息，无误后确认提交；如需修改，请直接告诉我。",
    failed: "发送失败",
    retry: "重试",
    retryLabel: "重新发送这条消息",
    offlineNotice: "网络连接已断开，恢复后将自动重新连接。",
    reconnecting: "连接已断开，正在重新连接（第 {n} 次）…",
    reconnectIn: "连接已断开，{s} 秒后重新连接…",
    reconnectNow: "立即重连",
    reconnected: "已重新连接。",
    restMode: "实时连接不可用，已切换为普通连接，您可以继续提问。",
    sendFailed: "消息没有发送成功，请检查网络后点击“重试”。",
    noReply: "暂时没有收到回复，请稍后点击“重试”，或拨打 12315 热线。",
    tooLong: "消息太长了，请精简到 {n} 字以内。",
  };
  var MAX_INPUT = 1000;

  // ---------------------------------------------------------------- configuration
  function readConfig() {
    var cfg = {};
    var key;
    for (key in DEFAULTS) cfg[key] = DEFAULTS[key];
    var data = SCRIPT ? SCRIPT.dataset : {};
    var fromData = {
      rasaUrl: data.rasaUrl,
      title: data.title,
      subtitle: data.subtitle,
      transport: data.transport,
      container: data.container,
      open: data.open === undefined ? undefined : data.open !== "false",
    };
    for (key in fromData) if (fromData[key] !== undefined) cfg[key] = fromData[key];
    var user = window.YiwenConfig || {};
    for (key in user) if (user[key] !== undefined && user[key] !== null) cfg[key] = user[key];
    cfg.rasaUrl = String(cfg.rasaUrl).replace(/\/+$/, "");
    if (!cfg.cssUrl && SCRIPT && SCRIPT.src) cfg.cssUrl = SCRIPT.src.replace(/\.js(\?.*)?$/, ".css$1");
    if (!cfg.configUrl && SCRIPT && SCRIPT.src) {
      cfg.configUrl = SCRIPT.src.replace(/[^\/?#]*(?:[?#].*)?$/, "config.json");
    }
    return cfg;
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return String(values[k]);
    });
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // ---------------------------------------------------------------- persistence
  function Store(key, max) {
    this.key = key;
    this.max = max;
  }
  Store.prototype.load = function () {
    try {
      var raw = window.localStorage.getItem(this.key);
      var state = raw ? JSON.parse(raw) : null;
      if (state && state.v === 1 && typeof state.senderId === "string" && Array.isArray(state.messages)) {
        return state;
      }
    } catch (e) {
      /* storage disabled or corrupt: start fresh */
    }
    return { v: 1, senderId: newId(), open: null, messages: [] };
  };
  Store.prototype.save = function (state) {
    if (state.messages.length > this.max) state.messages = state.messages.slice(-this.max);
    try {
      window.localStorage.setItem(this.key, JSON.stringify(state));
    } catch (e) {
      /* private mode or quota: the session just won't survive a reload */
    }
  };

  // ---------------------------------------------------------------- message shape
  /* Rasa REST gives {text, buttons, image, custom}; socket.io gives
   * {text, quick_replies, attachment} or a custom payload as the whole event. */
  function normalise(raw) {
    if (!raw || typeof raw !== "object") return null;
    var msg = {};
    if (typeof raw.text === "string") msg.text = raw.text;
    var buttons = raw.buttons || raw.quick_replies;
    if (Array.isArray(buttons)) {
      msg.buttons = buttons
        .filter(function (b) {
          return b && typeof b.title === "string";
        })
        .map(function (b) {
          return { title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title };
        });
    }
    if (typeof raw.image === "string") msg.image = raw.image;
    var att = raw.attachment;
    if (att && att.type === "image" && att.payload && typeof att.payload.src === "string") {
      msg.image = att.payload.src;
    }
    var custom = raw.custom;
    if (!custom && !("text" in raw) && !("quick_replies" in raw) && !("attachment" in raw)) {
      custom = raw; // socket.io: a custom payload arrives as the event data itself
    }
    if (custom && typeof custom === "object") {
      if (!custom.type && custom.data && typeof custom.data === "object") custom = custom.data;
      if (typeof custom.type === "string") msg.custom = custom;
      else if (typeof custom.text === "string" && msg.text === undefined) msg.text = custom.text;
    }
    if (msg.text === undefined && !msg.buttons && !msg.image && !msg.custom) return null;
    return msg;
  }

  function summaryFields(custom) {
    var f = custom.fields;
    var out = [];
    if (Array.isArray(f)) {
      f.forEach(function (item) {
        if (!item || typeof item !== "object") return;
        var label = item.label || item.name || item.key;
        if (label === undefined || item.value === undefined || item.value === null) return;
        out.push({ label: String(label), value: String(item.value) });
      });
    } else if (f && typeof f === "object") {
      Object.keys(f).forEach(function (k) {
        if (f[k] !== undefined && f[k] !== null) out.push({ label: k, value: String(f[k]) });
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- text rendering
  var CITE_RE = /^(?:[·•▪\-*]\s*|\d{1,2}[.、．]\s*)?((?:来源|依据|出处)[:：]\s*)?(《[^《》\n]{1,80}》[^：:。，,；;《》\n]{0,30}?)\s*(?:[：:]\s*(.*))?$/;
  var HEADER_RE = /^(?:依据|来源|出处|相关条文|相关规定|法律依据|政策依据|参考依据)[:：]?$/;
  var LINK_RE = /https?:\/\/[^\s，。；、！？）)》<>"']+/;
  var TOKEN_RE = new RegExp("(" + LINK_RE.source + ")", "g");

  /* Links, plus ticket references once the server's pattern is known. */
  function useTicketPattern(source) {
    if (typeof source !== "string" || !source) return false;
    try {
      TOKEN_RE = new RegExp("(" + LINK_RE.source + ")|(" + source + ")", "g");
      return true;
    } catch (e) {
      return false; // a pattern this browser cannot read: links only
    }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* Append text with links and ticket numbers marked up, as DOM nodes only. */
  function appendInline(parent, text) {
    var last = 0;
    var m;
    TOKEN_RE.lastIndex = 0;
    while ((m = TOKEN_RE.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) {
        var a = el("a", "yw-link", m[1]);
        a.href = m[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
      } else {
        parent.appendChild(el("strong", "yw-ticket", m[2]));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var BULLET_RE = /^[•·▪\-*]\s*(.+)$/;
  var KV_RE = /^([^：:，,。；;《》]{1,20})[：:]\s*(.+)$/;
  var QUOTE_RE = /^(?:原文|条文|原文摘录)[:：]\s*(.*)$/;

  /* "• label：value" lines as a list with the label set off. */
  function appendBullet(list, body) {
    var li = el("li");
    var kv = KV_RE.exec(body);
    if (kv) {
      li.appendChild(el("span", "yw-kv-key", kv[1] + "："));
      appendInline(li, kv[2]);
    } else {
      appendInline(li, body);
    }
    list.appendChild(li);
  }

  /* Paragraphs for lines, a citation list for 《…》第X条 lines, quoted passages for
   * "《…》第X条：text" lines, bullet lists for "• …" lines. */
  function renderRichText(text) {
    var frag = document.createDocumentFragment();
    var list = null;
    var bullets = null;
    var passage = null;
    var header = null;
    text.split(/\r?\n/).forEach(function (line) {
      var t = line.trim();
      if (!t) {
        list = bullets = passage = header = null;
        return;
      }
      var cite = CITE_RE.exec(t);
      if (cite) {
        var ref = cite[2].trim();
        var rest = (cite[3] || "").trim();
        bullets = null;
        if (rest) {
          passage = el("blockquote", "yw-passage");
          passage.appendChild(el("cite", "yw-passage-ref", ref));
          var p = el("p");
          appendInline(p, rest);
          passage.appendChild(p);
          frag.appendChild(passage);
          list = null;
        } else {
          if (!list) {
            list = el("ul", "yw-cites");
            list.setAttribute("aria-label", header ? header.textContent.replace(/[:：]$/, "") : TEXT.citations);
            frag.appendChild(list);
          }
          list.appendChild(el("li", "yw-cite", ref));
          passage = null;
        }
        return;
      }
      if (HEADER_RE.test(t)) {
        header = el("p", "yw-cite-head", t);
        frag.appendChild(header);
        list = bullets = passage = null;
        return;
      }
      var bullet = BULLET_RE.exec(t);
      if (bullet) {
        if (!bullets) {
          bullets = el("ul", "yw-bullets");
          (passage || frag).appendChild(bullets);
        }
        appendBullet(bullets, bullet[1]);
        list = null;
        return;
      }
      var quote = list ? QUOTE_RE.exec(t) : null;
      if (quote) {
        // "原文：…" right under a citation quotes that article: keep the two together.
        passage = el("blockquote", "yw-passage yw-quote");
        var qp = el("p");
        appendInline(qp, quote[1]);
        passage.appendChild(qp);
        frag.appendChild(passage);
        list = bullets = null;
        return;
      }
      var para = el("p");
      appendInline(para, t);
      if (passage) passage.appendChild(para);
      else frag.appendChild(para);
      list = bullets = null;
    });
    return frag;
  }

  /* A reply that asks the citizen to confirm a structured summary (a run of at least
   * three "• label：value" lines, with buttons) is shown as a card: the lines before
   * the run are its title, the lines after it the hint. */
  function parseSummaryText(text) {
    var lines = text.split(/\r?\n/).map(function (l) {
      return l.trim();
    });
    var start = -1;
    var end = -1;
    for (var i = 0; i < lines.length; i++) {
      var b = BULLET_RE.exec(lines[i]);
      var isKv = !!(b && KV_RE.test(b[1]) && !CITE_RE.test(lines[i]));
      if (isKv && start < 0) start = i;
      if (isKv && start >= 0) end = i;
      if (!isKv && start >= 0 && end >= 0 && i > end) break;
    }
    if (start < 0 || end - start + 1 < 3) return null;
    var fields = [];
    for (var j = start; j <= end; j++) {
      var body = BULLET_RE.exec(lines[j]);
      var kv = body ? KV_RE.exec(body[1]) : null;
      if (!kv) return null;
      fields.push({ label: kv[1], value: kv[2] });
    }
    var title = lines.slice(0, start).join(" ").replace(/[:：]$/, "");
    var hint = lines.slice(end + 1).filter(Boolean).join("\n");
    return { type: "complaint_summary", title: title || TEXT.summaryTitle, fields: fields, hint: hint };
  }

  // ---------------------------------------------------------------- socket.io client
  /* Engine.IO v4 over WebSocket only (no long-polling), Socket.IO v5 packets.
   * Frames: "0" open, "1" close, "2" ping (answered "3"), "4" message;
   * inside "4": "0" connect, "1" disconnect, "2" event, "4" connect error. */
  function SocketIoClient(opts) {
    this.opts = opts; // {url, path, sessionId, userEvent, botEvent, onReady, onMessage, onClose}
    this.ws = null;
    this.ready = false;
    this.closed = false;
    this.heartbeat = null;
    this.openTimer = null;
  }
  SocketIoClient.prototype.connect = function () {
    var self = this;
    var url;
    try {
      url = new URL(this.opts.path, this.opts.url + "/");
    } catch (e) {
      this._finish("bad-url");
      return;
    }
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "EIO=4&transport=websocket";
    try {
      this.ws = new WebSocket(url.toString());
    } catch (e) {
      this._finish("ws-error");
      return;
    }
    this.openTimer = setTimeout(function () {
      self._finish("timeout");
    }, 10000);
    this.ws.onmessage = function (ev) {
      if (typeof ev.data === "string") self._frame(ev.data);
    };
    this.ws.onclose = function () {
      self._finish("closed");
    };
    this.ws.onerror = function () {
      self._finish("error");
    };
  };
  SocketIoClient.prototype._arm = function (ms) {
    var self = this;
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(function () {
      self._finish("heartbeat");
    }, ms);
  };
  SocketIoClient.prototype._frame = function (data) {
    var kind = data.charAt(0);
    if (kind === "0") {
      var hs = {};
      try {
        hs = JSON.parse(data.slice(1));
      } catch (e) {
        /* keep defaults */
      }
      this.silence = (hs.pingInterval || 25000) + (hs.pingTimeout || 20000);
      this._arm(this.silence);
      this.ws.send("40");
    } else if (kind === "2") {
      this.ws.send("3" + data.slice(1));
      this._arm(this.silence);
    } else if (kind === "1") {
      this._finish("server-close");
    } else if (kind === "4") {
      this._packet(data.slice(1));
    }
  };
  SocketIoClient.prototype._packet = function (p) {
    var kind = p.charAt(0);
    var rest = p.slice(1);
    if (rest.charAt(0) === "/") {
      var comma = rest.indexOf(",");
      rest = comma < 0 ? "" : rest.slice(comma + 1);
    }
    rest = rest.replace(/^\d+/, ""); // acknowledgement id, unused
    if (kind === "0") {
      this.emit("session_request", { session_id: this.opts.sessionId });
    } else if (kind === "2") {
      var args;
      try {
        args = JSON.parse(rest);
      } catch (e) {
        return;
      }
      if (!Array.isArray(args)) return;
      if (args[0] === "session_confirm") {
        clearTimeout(this.openTimer);
        this.ready = true;
        this.opts.onReady();
      } else if (args[0] === this.opts.botEvent) {
        this.opts.onMessage(args[1]);
      }
    } else if (kind === "1" || kind === "4") {
      this._finish("refused");
    }
  };
  SocketIoClient.prototype.emit = function (event, data) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send("42" + JSON.stringify([event, data]));
    return true;
  };
  SocketIoClient.prototype.send = function (text) {
    if (!this.ready) return false;
    return this.emit(this.opts.userEvent, { message: text, session_id: this.opts.sessionId });
  };
  SocketIoClient.prototype.close = function () {
    this.closed = true;
    this._finish("client-close");
  };
  SocketIoClient.prototype._finish = function (reason) {
    clearTimeout(this.heartbeat);
    clearTimeout(this.openTimer);
    var wasReady = this.ready;
    this.ready = false;
    if (this.ws) {
      this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
      try {
        if (this.ws.readyState <= 1) this.ws.close();
      } catch (e) {
        /* already closing */
      }
      this.ws = null;
    }
    if (this._done) return;
    this._done = true;
    if (!this.closed) this.opts.onClose(reason, wasReady);
  };

  // ---------------------------------------------------------------- the widget
  function Widget(cfg) {
    this.cfg = cfg;
    this.store = new Store(cfg.storageKey + ":" + cfg.rasaUrl, cfg.maxStoredMessages);
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
    var limitedShown = false;
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (ctrl) ctrl.abort();
    }, this.cfg.replyTimeoutMs);
    fetch(this.cfg.rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: this.state.senderId, message: msg.payload }),
      signal: ctrl ? ctrl.signal : undefined,
    })
      .then(function (res) {
        // Too long (413) or too fast (429): the server explains why, in Chinese, in the
        // channel's own message shape. Show it; the message itself stays retryable.
        if ((res.status === 413 || res.status === 429) && !limitedShown) {
          limitedShown = true;
          return res.json().then(function (list) {
            if (Array.isArray(list)) self._onBot(list, true);
            throw new Error("HTTP " + res.status);
          });
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (list) {
        msg.status = "sent";
        self._updateStatus(msg);
        self._onBot(Array.isArray(list) ? list : [], true);
      })
      .catch(function () {
        msg.status = "failed";
        self._save();
        self._updateStatus(msg);
        self._notice(TEXT.sendFailed, "warn", 8000);
      })
      .then(function () {
        clearTimeout(timer);
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
      if (msg.custom && msg.custom.type === "complaint_summary") self._foldSummaryText(msg);
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

  /* When a summary card arrives, the same reply's plain-text summary (a message that
   * repeats most of the card's values) is folded into the card, buttons included. */
  Widget.prototype._foldSummaryText = function (card) {
    var fields = summaryFields(card.custom);
    if (!fields.length) return;
    var msgs = this.state.messages;
    for (var i = msgs.length - 2; i >= 0 && msgs[i].from === "bot"; i--) {
      var m = msgs[i];
      if (typeof m.text !== "string" || m.foldedInto) continue;
      var hits = fields.filter(function (f) {
        return f.value && m.text.indexOf(f.value) >= 0;
      }).length;
      if (hits * 2 >= fields.length && hits >= 1) {
        m.foldedInto = card.id;
        if (m.buttons && !card.buttons) card.buttons = m.buttons;
      }
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
      if (msg.foldedInto) {
        if (node) node.remove();
        return;
      }
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
    bubble.appendChild(renderRichText(this.cfg.welcome));
    node.appendChild(bubble);
    var suggestions = (this.cfg.suggestions || []).map(function (s) {
      return typeof s === "string" ? { title: s, payload: s } : s;
    });
    if (suggestions.length) node.appendChild(this._replies(suggestions, null));
    return node;
  };

  Widget.prototype._renderMessage = function (msg) {
    var self = this;
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
    var summary = null;
    if (!msg.custom && msg.buttons && msg.buttons.length && typeof msg.text === "string") {
      summary = parseSummaryText(msg.text);
    }
    if (summary) {
      node.appendChild(this._summaryCard(summary));
    } else if (typeof msg.text === "string" && msg.text.trim()) {
      var bubble = el("div", "yw-bubble");
      bubble.appendChild(el("span", "yw-sr", TEXT.botSays));
      bubble.appendChild(renderRichText(msg.text));
      node.appendChild(bubble);
    }
    if (msg.image && /^https?:\/\//i.test(msg.image)) {
      var img = el("img", "yw-image");
      img.src = msg.image;
      img.alt = "";
      img.loading = "lazy";
      node.appendChild(img);
    }
    if (msg.custom && msg.custom.type === "complaint_summary") node.appendChild(this._summaryCard(msg.custom));
    if (msg.buttons && msg.buttons.length) node.appendChild(this._replies(msg.buttons, msg));
    return node;
  };

  Widget.prototype._summaryCard = function (custom) {
    var card = el("section", "yw-card");
    var title = typeof custom.title === "string" ? custom.title : TEXT.summaryTitle;
    card.setAttribute("aria-label", title);
    card.appendChild(el("h3", "yw-card-title", title));
    var dl = el("dl", "yw-card-fields");
    summaryFields(custom).forEach(function (f) {
      var row = el("div", "yw-card-row");
      row.appendChild(el("dt", null, f.label));
      var dd = el("dd");
      f.value.split(/\r?\n/).forEach(function (line, i) {
        if (i) dd.appendChild(el("br"));
        dd.appendChild(document.createTextNode(line));
      });
      row.appendChild(dd);
      dl.appendChild(row);
    });
    card.appendChild(dl);
    var hint = typeof custom.hint === "string" ? custom.hint : TEXT.summaryHint;
    if (hint) {
      var hintNode = el("div", "yw-card-hint");
      hintNode.appendChild(renderRichText(hint));
      card.appendChild(hintNode);
    }
    return card;
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
    var cfg = readConfig();
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
})();
