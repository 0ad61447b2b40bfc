;; upper.wat: the devnet's demo job workload. A WASI command that copies
;; stdin to stdout with ASCII letters upper-cased, 64 KiB at a time.
;; Built with wabt 1.0.37 (npm install wabt@1.0.37):
;;   node_modules/wabt/bin/wat2wasm upper.wat -o upper.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; 0: read iovec, 8: write iovec, 16: bytes read, 20: bytes written, 1024: buffer
  (func (export "_start")
    (local $n i32) (local $i i32) (local $c i32)
    (block $done
      (loop $read
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 65536))
        (br_if $done (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
        (local.set $n (i32.load (i32.const 16)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $i (i32.const 0))
        (block $end
          (loop $up
            (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $c (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
            (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
              (then (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $up)))
        (i32.store (i32.const 8) (i32.const 1024))
        (i32.store (i32.const 12) (local.get $n))
        (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20)))
        (br $read)))))
