// Package keystore keeps an account's ed25519 keys on disk, one JSON file per
// key under a keyring directory (by convention <home>/keyring/, mode 0700;
// files mode 0600).
//
// Two backends write the files:
//
//   - BackendFile (the default): the 32-byte ed25519 seed is encrypted with a
//     passphrase. scrypt (N=2^15, r=8, p=1, 64-byte output, 16-byte random
//     salt) derives a 32-byte XChaCha20-Poly1305 key and a 32-byte check
//     value; the cipher uses a random 24-byte nonce, and its additional data
//     binds the file version, key name, backend, address and public key, so
//     editing any of them makes Unlock fail. The check value lets Unlock tell
//     a wrong passphrase (ErrWrongPassphrase) from an altered file (ErrCorrupt).
//   - BackendTest: the seed is stored in clear, the file says so, and a
//     keyring opened with BackendFile refuses to unlock it. For scripts and
//     devnets only.
//
// The name, address and public key are in clear in both, so Get and List need
// no passphrase. Export produces an armored text ("-----BEGIN INFERD PRIVATE
// KEY-----") with the seed encrypted the same way under an export passphrase;
// Import accepts it, or the hex seed that ExportHex prints.
//
// Writes are atomic: a temporary file in the same directory is written,
// fsynced and then hard-linked (never overwriting) or renamed into place, and
// the directory is fsynced, so a crash leaves either no key file or a whole one.
//
// Threading: a *Keyring holds no mutable state after Open; its methods are
// safe for concurrent use, also by several processes (Add and Import never
// overwrite a key, even when two of them race for the same name).
package keystore
