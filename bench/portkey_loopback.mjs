// Preloaded into Portkey's gateway (`node --import <this file> build/start-server.js ...`):
// every server it opens listens on 127.0.0.1 only. Portkey's start script takes a port but no
// host (its server would listen on every interface); nothing else of Portkey changes.
import net from "node:net";

const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  if (first !== null && typeof first === "object") {
    args[0] = { ...first, host: "127.0.0.1" };
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof second === "string") {
      args[1] = "127.0.0.1";
    } else {
      args.splice(1, 0, "127.0.0.1");
    }
  }
  return listen.apply(this, args);
};
