# A boot sector for lab tests of the serial console: prints a line on COM1, then echoes every byte
# it receives with bit 5 flipped (a -> A), so a test sees the guest process what it sent.
# Assembled at test time: as --32, ld -Ttext 0x7c00 --oformat binary (console/tests/test_lab_serial.py).
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0x7c00, %sp
  mov $msg, %si
print:
  lodsb
  test %al, %al
  jz echo
  call putc
  jmp print
echo:
  mov $0x3fd, %dx
rx:
  in %dx, %al
  test $1, %al
  jz rx
  mov $0x3f8, %dx
  in %dx, %al
  xor $0x20, %al
  call putc
  jmp echo
putc:
  mov %al, %bl
  mov $0x3fd, %dx
tx:
  in %dx, %al
  test $0x20, %al
  jz tx
  mov %bl, %al
  mov $0x3f8, %dx
  out %al, %dx
  ret
msg: .asciz "virtdeck serial ok\r\n"
.org 510
.byte 0x55, 0xaa
