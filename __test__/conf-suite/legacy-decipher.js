'use strict';

const crypto = require('node:crypto');

/**
 * Node ≥ 22 removed `crypto.createDecipher` (DEP0106). conf 10.2 calls it to
 * read a store encrypted by conf 4.1 or older (its 'encryption - upgrade' test, with
 * the fixture that conf 4.1.0 wrote), so on Node 22+ conf itself fails that
 * test: the call throws, conf's `catch {}` swallows it and the file reads as
 * garbage. For the control run on conf this puts back exactly what Node 20
 * did: OpenSSL's `EVP_BytesToKey` (MD5, no salt, one round) derives the key
 * and IV from the password, then `createDecipheriv`. tad-store reads that
 * format natively and is run without it.
 */
function legacyCreateDecipher(algorithm, password, options) {
  const info = crypto.getCipherInfo(algorithm);
  if (!info) throw new TypeError(`Invalid cipher: ${algorithm}`);
  const secret = Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
  const keyLength = info.keyLength;
  const ivLength = info.ivLength || 0;
  const blocks = [];
  let have = 0;
  let previous = Buffer.alloc(0);
  while (have < keyLength + ivLength) {
    previous = crypto.createHash('md5').update(previous).update(secret).digest();
    blocks.push(previous);
    have += previous.length;
  }
  const material = Buffer.concat(blocks);
  const key = material.subarray(0, keyLength);
  const iv = ivLength > 0 ? material.subarray(keyLength, keyLength + ivLength) : null;
  return crypto.createDecipheriv(algorithm, key, iv, options);
}

module.exports = { legacyCreateDecipher };
