// Browser test call for an agent page (#test-call). Asks the dashboard for a web call
// (POST /app/agents/:id/test-call with the CSRF header), then speaks the protocol of
// src/voice/web-protocol.ts on the returned WebSocket: microphone audio goes out as binary
// PCM16 little-endian mono 16 kHz, the agent's audio (same format) is played in order, marks are
// echoed once the audio before them has played, `clear` drops queued audio, keypad keys go as
// `dtmf`, hangup ends the call.
(function () {
  "use strict";
  var panel = document.getElementById("test-call");
  if (!panel) return;
  var startButton = document.getElementById("test-call-start");
  var hangupButton = document.getElementById("test-call-hangup");
  var keypad = document.getElementById("test-call-keypad");
  var statusLine = document.getElementById("test-call-status");
  var RATE = 16000;

  var socket = null;
  var audio = null; // AudioContext
  var micStream = null;
  var processor = null;
  var source = null;
  var playHead = 0;
  var playing = []; // scheduled AudioBufferSourceNodes
  var pendingMarks = []; // { name, timer }
  var ended = false;

  function say(text) {
    statusLine.textContent = text;
  }

  function setLive(live) {
    startButton.hidden = live;
    startButton.disabled = live;
    hangupButton.hidden = !live;
    keypad.hidden = !live;
  }

  function micProblem(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "The microphone is blocked. Allow this site to use the microphone, then start the call again.";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found. Connect one and try again.";
    if (name === "NotReadableError") return "The microphone is in use by another application.";
    return "The microphone could not be opened" + (error && error.message ? ": " + error.message : ".");
  }

  // Averages each group of input samples into one 16 kHz sample: a cheap low-pass and decimation.
  function downsample(input, inputRate) {
    var ratio = inputRate / RATE;
    var length = Math.floor(input.length / ratio);
    var out = new Int16Array(length);
    for (var i = 0; i < length; i++) {
      var start = Math.floor(i * ratio);
      var end = Math.min(input.length, Math.floor((i + 1) * ratio));
      var sum = 0;
      for (var j = start; j < end; j++) sum += input[j];
      var sample = end > start ? sum / (end - start) : 0;
      sample = Math.max(-1, Math.min(1, sample));
      out[i] = sample < 0 ? sample * 0x8000 : sample * 0x7fff;
    }
    return out;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(message);
  }

  function playPcm(buffer) {
    var samples = new Int16Array(buffer);
    if (!samples.length) return;
    var clip = audio.createBuffer(1, samples.length, RATE);
    var channel = clip.getChannelData(0);
    for (var i = 0; i < samples.length; i++) channel[i] = samples[i] / 0x8000;
    var node = audio.createBufferSource();
    node.buffer = clip;
    node.connect(audio.destination);
    playHead = Math.max(playHead, audio.currentTime);
    node.start(playHead);
    playHead += clip.duration;
    playing.push(node);
    node.onended = function () {
      playing = playing.filter(function (n) { return n !== node; });
    };
  }

  // A mark is echoed once everything received before it has played.
  function queueMark(name) {
    var wait = Math.max(0, playHead - audio.currentTime) * 1000;
    var mark = { name: name, timer: 0 };
    mark.timer = setTimeout(function () {
      pendingMarks = pendingMarks.filter(function (m) { return m !== mark; });
      send(JSON.stringify({ type: "mark", name: name }));
    }, wait);
    pendingMarks.push(mark);
  }

  // The caller barged in: drop queued audio and hand back the marks still waiting, as carriers do.
  function clearPlayout() {
    playing.forEach(function (node) {
      try { node.stop(); } catch (e) { /* already stopped */ }
    });
    playing = [];
    playHead = audio.currentTime;
    pendingMarks.forEach(function (mark) {
      clearTimeout(mark.timer);
      send(JSON.stringify({ type: "mark", name: mark.name }));
    });
    pendingMarks = [];
  }

  function cleanUp() {
    pendingMarks.forEach(function (mark) { clearTimeout(mark.timer); });
    pendingMarks = [];
    if (processor) processor.disconnect();
    if (source) source.disconnect();
    if (micStream) micStream.getTracks().forEach(function (track) { track.stop(); });
    if (audio) audio.close();
    processor = source = micStream = audio = null;
    setLive(false);
    startButton.disabled = false;
  }

  function finish(text) {
    if (ended) return;
    ended = true;
    say(text);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
    cleanUp();
  }

  function onMessage(event) {
    if (typeof event.data !== "string") {
      playPcm(event.data);
      return;
    }
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "ready") say("Live: talk to the agent.");
    else if (message.type === "mark") queueMark(message.name);
    else if (message.type === "clear") clearPlayout();
    else if (message.type === "error") say("Live. The call refused a message: " + message.message);
    else if (message.type === "ended") finish("Ended: " + String(message.end_reason || "unknown").replace(/_/g, " ") + ".");
  }

  async function start() {
    ended = false;
    startButton.disabled = true;
    say("Asking for the microphone…");
    try {
      micStream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    } catch (error) {
      say(micProblem(error));
      cleanUp();
      return;
    }
    say("Connecting…");
    var answer;
    try {
      var res = await fetch(panel.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "x-csrf-token": panel.dataset.csrf, accept: "application/json" },
      });
      answer = await res.json().catch(function () { return {}; });
      if (!res.ok) {
        var error = answer.error || {};
        say(error.headline || error.message || "The call could not start (" + res.status + ").");
        if (res.status === 401) window.location.assign("/app/sign-in");
        cleanUp();
        return;
      }
    } catch (e) {
      say("The dashboard could not be reached. Check your connection and try again.");
      cleanUp();
      return;
    }

    audio = new (window.AudioContext || window.webkitAudioContext)();
    playHead = audio.currentTime;
    socket = new WebSocket(answer.websocket_url);
    socket.binaryType = "arraybuffer";
    socket.onmessage = onMessage;
    socket.onerror = function () { if (!ended) say("The call connection failed."); };
    socket.onclose = function () { finish("Ended: the connection closed."); };
    socket.onopen = function () {
      setLive(true);
      hangupButton.focus();
      source = audio.createMediaStreamSource(micStream);
      // ScriptProcessor needs no module file (the CSP allows scripts from this site only, and this is one).
      processor = audio.createScriptProcessor(4096, 1, 1);
      processor.onaudioprocess = function (event) {
        var pcm = downsample(event.inputBuffer.getChannelData(0), audio.sampleRate);
        if (pcm.length) send(pcm.buffer);
      };
      source.connect(processor);
      // Connected (silently: its output stays zero) so browsers keep it running.
      processor.connect(audio.destination);
    };
  }

  startButton.addEventListener("click", function () { start(); });
  keypad.addEventListener("click", function (event) {
    var key = event.target.closest("button[data-key]");
    if (key) send(JSON.stringify({ type: "dtmf", digit: key.getAttribute("data-key") }));
  });
  hangupButton.addEventListener("click", function () {
    send(JSON.stringify({ type: "hangup" }));
    say("Hanging up…");
    // The server answers with `ended` and closes; close ourselves if it does not.
    setTimeout(function () { finish("Ended: you hung up."); }, 2000);
  });
  window.addEventListener("pagehide", function () {
    if (socket && !ended) send(JSON.stringify({ type: "hangup" }));
  });
})();
