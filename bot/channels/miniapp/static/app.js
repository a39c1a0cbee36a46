// The mini-app: a chat with the Hue-S assistant, opened by a host app (#launch=<JWT>), by
// Telegram as a Mini App (#tgWebAppData=…), or directly as a guest web chat. Talks only to
// this service's /api/v1/miniapp/… API; every text is put on the page as text, never as HTML.
"use strict";

(() => {
  const API = "/api/v1/miniapp";
  const STORE = "hues.miniapp.session";
  const LOCATION_TITLE = "📍 Gửi vị trí hiện tại";
  const URL_PATTERN = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const quick = $("quick");
  const typing = $("typing");
  const notice = $("notice");
  const input = $("message");
  const form = $("composer");
  const photoInput = $("photo");
  let token = null;
  let busy = false;

  // ---- the session ----------------------------------------------------------------------

  function launchParams() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    if (params.get("launch")) return { launch_token: params.get("launch") };
    if (params.get("tgWebAppData")) return { telegram_init_data: params.get("tgWebAppData") };
    return null;
  }

  async function openSession(body) {
    const response = await fetch(`${API}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw apiError(data);
    token = data.session_token;
    localStorage.setItem(STORE, JSON.stringify({ token, channel: data.channel }));
  }

  function storedSession() {
    try {
      return JSON.parse(localStorage.getItem(STORE)) || {};
    } catch (_) {
      return {};
    }
  }

  function apiError(data) {
    const error = new Error((data && data.error && data.error.message) || "Đã có lỗi xảy ra.");
    error.code = data && data.error && data.error.code;
    return error;
  }

  async function call(path, options = {}) {
    const headers = { ...(options.headers || {}), Authorization: `Bearer ${token}` };
    let response;
    try {
      response = await fetch(`${API}${path}`, { ...options, headers });
    } catch (_) {
      throw new Error("Không kết nối được với trợ lý. Bạn kiểm tra mạng rồi thử lại nhé.");
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw apiError(data);
    return data;
  }

  async function start() {
    const launch = launchParams();
    // A launch token is spent when used: take it off the address so a reload does not reuse it.
    if (launch) history.replaceState(null, "", window.location.pathname + window.location.search);
    const stored = storedSession();
    try {
      if (launch) {
        await openSession(launch);
      } else if (stored.token) {
        token = stored.token;
      } else {
        await openSession({});
      }
      await showHistory();
    } catch (error) {
      // A guest whose session ended starts a new guest chat; a citizen who came from an app
      // must open the assistant from that app again (their identity comes from it).
      const expired = error.code === "session_expired" || error.code === "session_required";
      if (!launch && expired && stored.channel === "web") {
        localStorage.removeItem(STORE);
        try {
          await openSession({});
          await showHistory();
          return;
        } catch (again) {
          error = again;
        }
      }
      showNotice(error.message);
      setEnabled(false);
    }
  }

  async function showHistory() {
    const data = await call("/history");
    log.replaceChildren();
    const messages = data.messages;
    for (const message of messages) {
      if (message.role === "citizen") addCitizen(message.text, message.photos.map(photoUrl));
      else addAssistant(message);
    }
    const last = messages[messages.length - 1];
    if (last && last.role === "assistant") showQuickReplies(last);
    if (!messages.length) await send({ payload: "/greet" }, null);
    scrollDown();
  }

  // ---- the log ----------------------------------------------------------------------------

  function linkify(element, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      element.append(text.slice(last, match.index));
      const link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.append(link);
      last = match.index + match[0].length;
    }
    element.append(text.slice(last));
  }

  function bubble(role) {
    const item = document.createElement("div");
    item.className = `msg ${role}`;
    log.append(item);
    return item;
  }

  function addCitizen(text, photos = []) {
    const item = bubble("citizen");
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = "Bạn: ";
    item.append(who);
    if (text) linkify(item, text);
    for (const src of photos) {
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = "Ảnh bạn đã gửi";
      Promise.resolve(src).then((url) => {
        if (url) img.src = url;
      });
      item.append(img);
    }
  }

  function addAssistant(reply) {
    const item = bubble("assistant");
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = "Trợ lý: ";
    item.append(who);
    if (reply.text) linkify(item, reply.text);
    const card = reply.custom && reply.custom.report;
    if (card) item.append(reportCard(card, "div"));
  }

  function addSystem(text) {
    const item = bubble("system");
    item.textContent = text;
  }

  function showQuickReplies(reply) {
    quick.replaceChildren();
    for (const button of reply.buttons || []) {
      quick.append(quickButton(button.title, () => press(button)));
    }
    if (reply.custom && reply.custom.request_location) {
      quick.append(quickButton(LOCATION_TITLE, shareLocation));
    }
  }

  function quickButton(title, action) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = title;
    element.addEventListener("click", action);
    return element;
  }

  function scrollDown() {
    const main = $("chat");
    main.scrollTop = main.scrollHeight;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function setEnabled(enabled) {
    for (const element of form.querySelectorAll("button, input")) element.disabled = !enabled;
    for (const element of quick.querySelectorAll("button")) element.disabled = !enabled;
  }

  // ---- sending ------------------------------------------------------------------------------

  async function send(body, echo, photos = []) {
    if (busy) return;
    busy = true;
    showNotice("");
    if (echo || photos.length) addCitizen(echo, photos);
    quick.replaceChildren();
    typing.hidden = false;
    setEnabled(false);
    scrollDown();
    try {
      const data = await call("/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      for (const reply of data.replies) addAssistant(reply);
      const last = data.replies[data.replies.length - 1];
      if (last) showQuickReplies(last);
    } catch (error) {
      addSystem(error.message);
    } finally {
      typing.hidden = true;
      busy = false;
      setEnabled(true);
      scrollDown();
      input.focus();
    }
  }

  function press(button) {
    send({ payload: button.payload }, button.title);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text);
  });

  function shareLocation() {
    if (!navigator.geolocation) {
      addSystem("Thiết bị không hỗ trợ chia sẻ vị trí. Bạn nhập địa chỉ giúp mình nhé.");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords;
        send({ location: { latitude, longitude } }, "📍 Đã chia sẻ vị trí");
      },
      () => addSystem("Không lấy được vị trí. Bạn cho phép truy cập vị trí hoặc nhập địa chỉ nhé."),
      { enableHighAccuracy: true, timeout: 15000 },
    );
  }

  $("locate").addEventListener("click", shareLocation);
  $("attach").addEventListener("click", () => photoInput.click());

  photoInput.addEventListener("change", async () => {
    const file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file || busy) return;
    const upload = new FormData();
    upload.append("file", file);
    let media;
    try {
      media = await call("/media", { method: "POST", body: upload });
    } catch (error) {
      addSystem(error.message);
      return;
    }
    const text = input.value.trim();
    input.value = "";
    send({ text: text || null, attachments: [media.id] }, text, [URL.createObjectURL(file)]);
  });

  async function photoUrl(id) {
    // <img> cannot send the session header: fetch the photo and show it from a blob.
    try {
      const response = await fetch(`${API}/media/${encodeURIComponent(id)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      return response.ok ? URL.createObjectURL(await response.blob()) : null;
    } catch (_) {
      return null;
    }
  }

  // ---- my reports ---------------------------------------------------------------------------

  function reportCard(report, tag = "li") {
    const card = document.createElement(tag);
    card.className = "card";
    const title = document.createElement("p");
    title.className = "card-title";
    const code = document.createElement("span");
    code.textContent = report.code;
    const badge = document.createElement("span");
    badge.className = report.open ? "badge open" : "badge";
    const label = report.state_label || "";
    badge.textContent = label.charAt(0).toLocaleUpperCase("vi") + label.slice(1);
    title.append(code, badge);
    card.append(title);
    const lines = [
      report.category_name && `Lĩnh vực: ${report.category_name}`,
      (report.address || report.commune) && `Địa điểm: ${report.address || report.commune}`,
      report.agency_name && `Đơn vị xử lý: ${report.agency_name}`,
      report.open &&
        report.deadline_label &&
        `Hạn xử lý: ${report.deadline_label}${report.overdue ? " (đã quá hạn)" : ""}`,
      report.latest_reply && `Trả lời của đơn vị: ${report.latest_reply}`,
    ];
    for (const line of lines.filter(Boolean)) {
      const p = document.createElement("p");
      p.textContent = line;
      card.append(p);
    }
    return card;
  }

  async function showReports() {
    const panel = $("reports");
    const list = $("report-list");
    try {
      const data = await call("/reports");
      list.replaceChildren(...data.reports.map((r) => reportCard(r)));
      $("reports-empty").hidden = data.reports.length > 0;
    } catch (error) {
      showNotice(error.message);
      return;
    }
    panel.hidden = false;
    $("show-reports").setAttribute("aria-expanded", "true");
    panel.focus();
  }

  function hideReports() {
    $("reports").hidden = true;
    $("show-reports").setAttribute("aria-expanded", "false");
    $("show-reports").focus();
  }

  $("show-reports").addEventListener("click", showReports);
  $("close-reports").addEventListener("click", hideReports);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("reports").hidden) hideReports();
  });

  start();
})();
