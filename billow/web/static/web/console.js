// The VM console page: noVNC (vendored, web/novnc) connects to the ticket URL in data-url.
import RFB from "./novnc/core/rfb.js";

const screen = document.getElementById("console-screen");
const status = document.getElementById("console-status");
const rfb = new RFB(screen, screen.dataset.url);
rfb.scaleViewport = true;
rfb.addEventListener("connect", () => {
  status.textContent = status.dataset.connected;
  status.dataset.state = "connected";
});
rfb.addEventListener("disconnect", () => {
  status.textContent = status.dataset.disconnected;
  status.dataset.state = "disconnected";
});
