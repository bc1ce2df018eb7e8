(function() {
	// node_modules/@tauri-apps/api/mocks.js
	function mockInternals() {
		var _a, _b;
		window.__TAURI_INTERNALS__ = (_a = window.__TAURI_INTERNALS__) !== null && _a !== void 0 ? _a : {};
		window.__TAURI_EVENT_PLUGIN_INTERNALS__ = (_b = window.__TAURI_EVENT_PLUGIN_INTERNALS__) !== null && _b !== void 0 ? _b : {};
	}
	/**
	* Intercepts all IPC requests with the given mock handler.
	*
	* This function can be used when testing tauri frontend applications or when running the frontend in a Node.js context during static site generation.
	*
	* # Examples
	*
	* Testing setup using Vitest:
	* ```ts
	* import { mockIPC, clearMocks } from "@tauri-apps/api/mocks"
	* import { invoke } from "@tauri-apps/api/core"
	*
	* afterEach(() => {
	*    clearMocks()
	* })
	*
	* test("mocked command", () => {
	*  mockIPC((cmd, payload) => {
	*   switch (cmd) {
	*     case "add":
	*       return (payload.a as number) + (payload.b as number);
	*     default:
	*       break;
	*     }
	*  });
	*
	*  expect(invoke('add', { a: 12, b: 15 })).resolves.toBe(27);
	* })
	* ```
	*
	* The callback function can also return a Promise:
	* ```js
	* import { mockIPC, clearMocks } from "@tauri-apps/api/mocks"
	* import { invoke } from "@tauri-apps/api/core"
	*
	* afterEach(() => {
	*    clearMocks()
	* })
	*
	* test("mocked command", () => {
	*  mockIPC((cmd, payload) => {
	*   if(cmd === "get_data") {
	*    return fetch("https://example.com/data.json")
	*      .then((response) => response.json())
	*   }
	*  });
	*
	*  expect(invoke('get_data')).resolves.toBe({ foo: 'bar' });
	* })
	* ```
	*
	* `listen` can also be mocked with direct calls to the `emit` function. This functionality is opt-in via the `shouldMockEvents` option:
	* ```js
	* import { mockIPC, clearMocks } from "@tauri-apps/api/mocks"
	* import { emit, listen } from "@tauri-apps/api/event"
	*
	* afterEach(() => {
	*    clearMocks()
	* })
	*
	* test("mocked event", () => {
	*  mockIPC(() => {}, { shouldMockEvents: true }); // enable event mocking
	*
	*  const eventHandler = vi.fn();
	*  listen('test-event', eventHandler); // typically in component setup or similar
	*
	*  emit('test-event', { foo: 'bar' });
	*  expect(eventHandler).toHaveBeenCalledWith({
	*    event: 'test-event',
	*    id: expect.any(Number),
	*    payload: { foo: 'bar' }
	*  });
	* })
	* ```
	* `emitTo` is currently **not** supported by this mock implementation.
	*
	* @since 1.0.0
	*/
	function mockIPC(cb, options) {
		mockInternals();
		function isEventPluginInvoke(cmd) {
			return cmd.startsWith("plugin:event|");
		}
		function handleEventPlugin(cmd, args) {
			switch (cmd) {
				case "plugin:event|listen": return handleListen(args);
				case "plugin:event|emit": return handleEmit(args);
				case "plugin:event|unlisten": return handleRemoveListener(args);
			}
		}
		const listeners = /* @__PURE__ */ new Map();
		function handleListen(args) {
			if (!listeners.has(args.event)) listeners.set(args.event, []);
			listeners.get(args.event).push(args.handler);
			return args.handler;
		}
		function handleEmit(args) {
			const eventListeners = listeners.get(args.event) || [];
			for (const handler of [...eventListeners]) runCallback(handler, {
				...args,
				id: handler
			});
			return null;
		}
		function handleRemoveListener(args) {
			const eventListeners = listeners.get(args.event);
			if (eventListeners) {
				const index = eventListeners.indexOf(args.eventId);
				if (index !== -1) eventListeners.splice(index, 1);
			}
		}
		async function invoke(cmd, args, _options) {
			if ((options === null || options === void 0 ? void 0 : options.shouldMockEvents) && isEventPluginInvoke(cmd)) return handleEventPlugin(cmd, args);
			return cb(cmd, args);
		}
		const callbacks = /* @__PURE__ */ new Map();
		function registerCallback(callback, once = false) {
			const identifier = window.crypto.getRandomValues(/* @__PURE__ */ new Uint32Array(1))[0];
			callbacks.set(identifier, (data) => {
				if (once) unregisterCallback(identifier);
				return callback && callback(data);
			});
			return identifier;
		}
		function unregisterCallback(id) {
			callbacks.delete(id);
		}
		function runCallback(id, data) {
			const callback = callbacks.get(id);
			if (callback) callback(data);
			else console.warn(`[TAURI] Couldn't find callback id ${id}. This might happen when the app is reloaded while Rust is running an asynchronous operation.`);
		}
		function unregisterListener(event, id) {
			unregisterCallback(id);
		}
		window.__TAURI_INTERNALS__.invoke = invoke;
		window.__TAURI_INTERNALS__.transformCallback = registerCallback;
		window.__TAURI_INTERNALS__.unregisterCallback = unregisterCallback;
		window.__TAURI_INTERNALS__.runCallback = runCallback;
		window.__TAURI_INTERNALS__.callbacks = callbacks;
		window.__TAURI_EVENT_PLUGIN_INTERNALS__.unregisterListener = unregisterListener;
	}
	/**
	* Mocks one or many window labels.
	* In non-tauri context it is required to call this function *before* using the `@tauri-apps/api/window` module.
	*
	* This function only mocks the *presence* of windows,
	* window properties (e.g. width and height) can be mocked like regular IPC calls using the `mockIPC` function.
	*
	* # Examples
	*
	* ```js
	* import { mockWindows } from "@tauri-apps/api/mocks";
	* import { getCurrentWindow } from "@tauri-apps/api/window";
	*
	* mockWindows("main", "second", "third");
	*
	* const win = getCurrentWindow();
	*
	* win.label // "main"
	* ```
	*
	* ```js
	* import { mockWindows } from "@tauri-apps/api/mocks";
	*
	* mockWindows("main", "second", "third");
	*
	* mockIPC((cmd, args) => {
	*  if (cmd === "plugin:event|emit") {
	*    console.log('emit event', args?.event, args?.payload);
	*  }
	* });
	*
	* const { emit } = await import("@tauri-apps/api/event");
	* await emit('loaded'); // this will cause the mocked IPC handler to log to the console.
	* ```
	*
	* @param current Label of window this JavaScript context is running in.
	*
	* @since 1.0.0
	*/
	function mockWindows(current, ..._additionalWindows) {
		mockInternals();
		window.__TAURI_INTERNALS__.metadata = {
			currentWindow: { label: current },
			currentWebview: {
				windowLabel: current,
				label: current
			}
		};
	}
	// tests/mock-backend.ts
	var READY = {
		state: "ready",
		info: {
			path: "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
			name: "SmolLM2 135M Instruct",
			architecture: "llama",
			quantization: "Q4_1",
			file_size: 98362432,
			parameters: 134515008,
			context_length: 8192
		},
		device: "CPU (2 threads)",
		error: null
	};
	function sendTo(channel, index, message) {
		window.__TAURI_INTERNALS__.runCallback(channel.id, {
			index,
			message
		});
	}
	var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	function installMockBackend(options = {}) {
		const reply = options.reply ?? [
			"Once",
			" upon",
			" a",
			" time",
			",",
			" a",
			" lighthouse",
			" keeper",
			" wrote",
			"."
		];
		const delayMs = options.delayMs ?? 20;
		const cancelled = /* @__PURE__ */ new Set();
		const backend = { calls: [] };
		mockWindows("main");
		mockIPC(async (cmd, payload) => {
			const args = payload ?? {};
			backend.calls.push({
				cmd,
				args
			});
			if (options.failWith) throw options.failWith;
			switch (cmd) {
				case "watch_model_status": {
					const channel = args.onStatus;
					sendTo(channel, 0, {
						...READY,
						state: "loading",
						info: null,
						device: null
					});
					setTimeout(() => sendTo(channel, 1, READY), options.loadMs ?? 10);
					return null;
				}
				case "generate": {
					const channel = args.onEvent;
					const id = args.id;
					let index = 0;
					const send = (event) => sendTo(channel, index++, event);
					send({
						event: "started",
						data: { prompt_tokens: 12 }
					});
					let text = "";
					let tokens = 0;
					for (const word of reply) {
						await sleep(delayMs);
						if (cancelled.has(id)) break;
						text += word;
						tokens += 1;
						send({
							event: "text",
							data: {
								text: word,
								completion_tokens: tokens,
								tokens_per_second: 42.5,
								time_to_first_token_ms: 35
							}
						});
					}
					const generation = {
						text,
						prompt_tokens: 12,
						completion_tokens: tokens,
						stop_reason: cancelled.has(id) ? "cancelled" : "end_of_turn",
						timings: {
							prompt_tokens_processed: 12,
							prompt_ms: 30,
							prompt_tokens_per_second: 400,
							time_to_first_token_ms: 35,
							decode_ms: tokens * delayMs,
							decode_tokens_per_second: 42.5,
							total_ms: 35 + tokens * delayMs
						}
					};
					send({
						event: "finished",
						data: generation
					});
					return generation;
				}
				case "cancel":
					cancelled.add(args.id);
					return null;
				default: throw {
					kind: "unknown_command",
					message: `no mock for ${cmd}`
				};
			}
		});
		return backend;
	}
	// tests/e2e/mock-entry.ts
	var options = window.__ATELIER_MOCK_OPTIONS__;
	window.__ATELIER_MOCK__ = installMockBackend(options);
})();
