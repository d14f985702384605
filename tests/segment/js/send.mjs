// Drives Segment's Node library, unchanged but for its host and write key, through a plan of
// calls read as JSON from stdin:
//   {"host": "http://127.0.0.1:8000", "writeKey": "...", "settings": {"flushAt": 100},
//    "calls": [["identify", {...}], ["track", {...}], ...]}
// and prints, as one JSON object on stdout, every request the library made (its URL, headers
// and parsed body, as the library emitted them) with the status it was answered, and every
// delivery error. Exits 1 when a message was not delivered.
import { Analytics } from '@segment/analytics-node'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const analytics = new Analytics({ writeKey: plan.writeKey, host: plan.host, ...plan.settings })
const requests = []
const errors = []
analytics.on('http_request', (request) => {
  requests.push({ method: request.method, url: request.url, headers: request.headers,
                  raw: request.body, body: JSON.parse(request.body) })
})
analytics.on('http_response', (response) => {
  // an answer names the body it answers (a retry sends the same body again)
  const request = requests.find((r) => r.status === undefined && r.raw === response.body)
  if (request) request.status = response.status
})
analytics.on('error', (error) => {
  errors.push({ code: error.code, reason: String(error.reason),
                messageId: error.ctx?.event?.messageId })
})

for (const [call, message] of plan.calls) analytics[call](message)
await analytics.closeAndFlush({ timeout: 60000 })

for (const request of requests) delete request.raw
process.stdout.write(JSON.stringify({ requests, errors }))
process.exitCode = errors.length ? 1 : 0
