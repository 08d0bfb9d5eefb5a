/**
 * The concurrent-calls bench's baseline: a bare relay between Twilio's Media Streams and the
 * realtime model, doing only the forwarding every bridge must do (parse each frame, move the
 * base64 audio into the other side's JSON) and nothing else: no memory, no validation, no
 * recall, no marks. Run as its own process: `node --import tsx bench/calls/relay.ts`, with
 * RELAY_MODEL_URL and RELAY_PUBLIC_URL; it prints `{"port": …}` once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const modelUrl = process.env.RELAY_MODEL_URL ?? '';
const publicUrl = process.env.RELAY_PUBLIC_URL ?? '';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const stream = new URL('/twilio/media', publicUrl.replace(/^http/, 'ws')).href;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${stream}"/></Connect></Response>`);
  });
});
const wss = new WebSocketServer({ server, path: '/twilio/media' });
wss.on('connection', (twilio) => {
  const model = new WebSocket(modelUrl);
  let streamSid = '';
  const early: string[] = [];
  twilio.on('error', () => {});
  model.on('error', () => {});
  model.on('open', () => {
    for (const frame of early.splice(0)) model.send(frame);
  });
  twilio.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { event: string; streamSid?: string; media?: { payload: string } };
    if (frame.event === 'start') streamSid = frame.streamSid ?? '';
    if (frame.event !== 'media' || !frame.media) return;
    const append = JSON.stringify({ type: 'input_audio_buffer.append', audio: frame.media.payload });
    if (model.readyState === WebSocket.OPEN) model.send(append);
    else early.push(append);
  });
  model.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { type: string; delta?: string };
    if (event.type !== 'response.output_audio.delta' || twilio.readyState !== WebSocket.OPEN) return;
    twilio.send(JSON.stringify({ event: 'media', streamSid, media: { payload: event.delta } }));
  });
  twilio.on('close', () => model.close());
  model.on('close', () => twilio.close());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
