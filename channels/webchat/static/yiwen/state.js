/*
 * 邑问 widget — state: configuration, UI strings, the stored session, message shape.
 *
 * Loaded by ../yiwen-widget.js (no build step); shares the private namespace
 * window.YiwenWidget._modules with transport.js, render.js and widget.js.
 */
(function (M) {
  "use strict";

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
    // A stored conversation idle this long is forgotten on the next visit: a shared or
    // public computer must not show the next person what the last one typed.
    sessionIdleMinutes: 30,
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
    basis: "依据",
    citationDate: "（{date}）",
    superseded: "注意：该文件已被{by}取代，以下仅供参考",
    quote: "原文",
    offers: "您还可以",
    summaryTitle: "投诉信息摘要",
    summaryNotStored: "（信息摘要含个人信息，没有保存在本机。）",
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

  /* Defaults, then data-* attributes of the loader's tag, then window.YiwenConfig. */
  function readConfig(script) {
    var cfg = {};
    var key;
    for (key in DEFAULTS) cfg[key] = DEFAULTS[key];
    var data = script ? script.dataset : {};
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
    if (!cfg.cssUrl && script && script.src) cfg.cssUrl = script.src.replace(/\.js(\?.*)?$/, ".css$1");
    if (!cfg.configUrl && script && script.src) {
      cfg.configUrl = script.src.replace(/[^\/?#]*(?:[?#].*)?$/, "config.json");
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
  /* The transcript survives a reload (localStorage), with two limits for personal data:
   * it is forgotten after `idleMs` without a save (a new session id too), and the
   * complaint summary card (name, phone, address) is never written: a short note stands
   * in for it in the stored copy. */
  function Store(key, max, idleMs) {
    this.key = key;
    this.max = max;
    this.idleMs = idleMs > 0 ? idleMs : 0;
  }
  function isSummary(msg) {
    return !!(msg && msg.custom && msg.custom.type === "complaint_summary");
  }
  Store.prototype.load = function () {
    try {
      var raw = window.localStorage.getItem(this.key);
      var state = raw ? JSON.parse(raw) : null;
      var idle = state && this.idleMs && Date.now() - (state.savedAt || 0) > this.idleMs;
      if (idle) {
        window.localStorage.removeItem(this.key);
      } else if (state && state.v === 1 && typeof state.senderId === "string" && Array.isArray(state.messages)) {
        return state;
      }
    } catch (e) {
      /* storage disabled or corrupt: start fresh */
    }
    return { v: 1, senderId: newId(), open: null, messages: [] };
  };
  Store.prototype.save = function (state) {
    if (state.messages.length > this.max) state.messages = state.messages.slice(-this.max);
    var stored = { v: state.v, senderId: state.senderId, open: state.open, savedAt: Date.now() };
    stored.messages = state.messages.map(function (msg) {
      return isSummary(msg) ? { id: msg.id, from: msg.from, ts: msg.ts, text: TEXT.summaryNotStored } : msg;
    });
    try {
      window.localStorage.setItem(this.key, JSON.stringify(stored));
    } catch (e) {
      /* private mode or quota: the session just won't survive a reload */
    }
  };

  // ---------------------------------------------------------------- message shape
  /* Rasa REST gives {text, buttons, image, custom}; socket.io gives {text, quick_replies,
   * attachment, custom} or a custom payload as the whole event. A structured reply
   * (core/replies.py: custom.type "answer" or "complaint_summary") comes with its text
   * and buttons in the same message. */
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

  M.state = {
    TEXT: TEXT,
    MAX_INPUT: MAX_INPUT,
    readConfig: readConfig,
    fmt: fmt,
    newId: newId,
    Store: Store,
    normalise: normalise,
  };
})(window.YiwenWidget._modules);
