// Test helper: opens a dlec store and keeps it open until stdin closes (a second process holding the lock).
import {openStore} from '../../src/store/open-store.js'

const path = process.argv[2] ?? ''
const db = await openStore({path})
process.stdout.write(`locked ${process.pid}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  db.close()
  process.exit(0)
})
