// A loopback OpenAI-compatible chat-completions server speaking SSE, for the real app's fusion test.
import http from 'node:http';

function chunk(text) {
  return `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
}

function verdict(body) {
  const user = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const labels = [...user.matchAll(/<response id="([A-Z]+)">/g)].map((m) => m[1]);
  const scores = Object.fromEntries(labels.map((l, i) => [l, 9 - i]));
  const json = {
    consensus: ['both describe a harbour at dawn'],
    contradictions: ['one is calm, one is stormy'],
    unique_insights: [{ response: labels[0] ?? 'A', insight: 'the smell of tar' }],
    blind_spots: ['no people'],
    scores,
    best: labels[0] ?? 'A',
    minority_report: 'a storm is more dramatic',
  };
  return `${JSON.stringify(json)}\n=== FINAL ANSWER ===\nThe harbour woke slowly, tar and salt in the air.`;
}

export async function startServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw);
      requests.push(body);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = body.model === 'judge' ? verdict(body) : `A ${body.model} answer: the harbour at dawn, gulls over the masts.`;
      for (const word of text.split(/(?<= )/)) {
        res.write(chunk(word));
        await new Promise((r) => setTimeout(r, 5));
      }
      res.write(`data: ${JSON.stringify({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((r) => server.close(r)) };
}
