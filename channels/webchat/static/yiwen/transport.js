/*
 * 邑问 widget — transport: a minimal socket.io client and Rasa's REST webhook.
 *
 * No third-party code: the client below speaks just the part of Engine.IO v4 /
 * Socket.IO v5 that Rasa's channel needs (WebSocket transport, default namespace,
 * events). The REST webhook is the fallback.
 */
(function (M) {
  "use strict";

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
    // Behind nginx with several Rasa replicas, the conversation's replica is chosen by
    // a hash of this id (README "Production profile"); Rasa itself ignores it.
    if (this.opts.sessionId) url.searchParams.set("sender", this.opts.sessionId);
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

  /* POST one message to Rasa's REST webhook: resolves to {status, body} (body: the
   * parsed JSON, or null); rejects on network errors and after timeoutMs. */
  function postRest(rasaUrl, sender, message, timeoutMs) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (ctrl) ctrl.abort();
    }, timeoutMs);
    return fetch(rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message }),
      signal: ctrl ? ctrl.signal : undefined,
    })
      .then(function (res) {
        return res.json().then(
          function (body) {
            return { status: res.status, body: body };
          },
          function () {
            return { status: res.status, body: null };
          }
        );
      })
      .then(
        function (result) {
          clearTimeout(timer);
          return result;
        },
        function (err) {
          clearTimeout(timer);
          throw err;
        }
      );
  }

  M.transport = { SocketIoClient: SocketIoClient, postRest: postRest };
})(window.YiwenWidget._modules);
