// dwv's public API, driven like a minimal dwv viewer: one layer group, the WindowLevel tool for
// left-drag and the Scroll tool for the wheel (the bench switches with benchSetTool).
import {App, AppOptions, ToolConfig, ViewConfig} from "dwv";

const root = document.documentElement;
const group = document.getElementById("layerGroup0");
const app = new App();
const options = new AppOptions({"*": [new ViewConfig("layerGroup0")]});
options.tools = {WindowLevel: new ToolConfig(), Scroll: new ToolConfig()};
app.init(options);

let renders = 0;
app.addEventListener("renderend", () => {
  renders += 1;
  group.dataset.renderCount = String(renders);
});
app.addEventListener("load", () => {
  app.setTool(globalThis.benchTool || "WindowLevel");
  root.dataset.loaded = String(app.getDataIds().length);
});
app.addEventListener("error", (event) => console.error("dwv load error", event.error || event));

document.getElementById("open-files").addEventListener("change", (event) => {
  app.loadFiles(Array.from(event.target.files));
});
globalThis.benchSetTool = (name) => {
  globalThis.benchTool = name;
  app.setTool(name);
};
root.dataset.runtime = "ready";
