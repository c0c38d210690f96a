//go:build goexperiment.simd && amd64

#include "textflag.h"

// ARGS loads a tile kernel's arguments (both kernels share the signature)
// and the addresses of x's rows 3 and 6.
#define ARGS \
	MOVQ x+0(FP), SI \
	MOVQ xs+8(FP), BX \
	MOVQ w+16(FP), DI \
	MOVQ kn+24(FP), CX \
	MOVQ out+32(FP), DX \
	MOVQ os+40(FP), R10 \
	MOVQ bias+48(FP), R12 \
	MOVQ res+56(FP), R13 \
	MOVQ rs+64(FP), R14 \
	MOVQ flags+72(FP), R11 \
	LEAQ (SI)(BX*2), R8 \
	ADDQ BX, R8 \
	LEAQ (R8)(BX*2), R9 \
	ADDQ BX, R9

// ZERO8 clears the accumulators Z0-Z7.
#define ZERO8 \
	VXORPS Z0, Z0, Z0 \
	VXORPS Z1, Z1, Z1 \
	VXORPS Z2, Z2, Z2 \
	VXORPS Z3, Z3, Z3 \
	VXORPS Z4, Z4, Z4 \
	VXORPS Z5, Z5, Z5 \
	VXORPS Z6, Z6, Z6 \
	VXORPS Z7, Z7, Z7

// BROADCAST8 broadcasts x's value at the current input channel for each of
// the tile's 8 rows into Z18-Z25.
#define BROADCAST8 \
	VBROADCASTSS (SI), Z18 \
	VBROADCASTSS (SI)(BX*1), Z19 \
	VBROADCASTSS (SI)(BX*2), Z20 \
	VBROADCASTSS (R8), Z21 \
	VBROADCASTSS (SI)(BX*4), Z22 \
	VBROADCASTSS (R8)(BX*2), Z23 \
	VBROADCASTSS (R9), Z24 \
	VBROADCASTSS (R8)(BX*4), Z25

// NEXTK moves to the next input channel (x's rows and the strip's next row
// of 32 weights) and counts it down in CX.
#define NEXTK \
	ADDQ $4, SI \
	ADDQ $4, R8 \
	ADDQ $4, R9 \
	ADDQ $128, DI \
	DECQ CX

// ACTCONST sets the activations' bounds: 0 in Z28, 6 in Z29.
#define ACTCONST \
	VXORPS Z28, Z28, Z28 \
	MOVL $0x40c00000, AX \
	VPBROADCASTD AX, Z29

// ROW is the epilogue of one row of the tile (accumulators A and B, the
// row's 32 outputs at DX, its residual at R13; labels L1-L3 its own), by
// the flags in R11; it moves DX (and R13, with a residual) to the next row.
#define ROW(A, B, L1, L2, L3) \
	TESTQ $1, R11 \
	JZ L1 \
	VADDPS (DX), A, A \
	VADDPS 64(DX), B, B \
L1: \
	TESTQ $2, R11 \
	JZ L3 \
	VADDPS Z26, A, A \
	VADDPS Z27, B, B \
	TESTQ $20, R11 \
	JZ L2 \
	VMAXPS Z28, A, A \
	VMAXPS Z28, B, B \
	TESTQ $16, R11 \
	JZ L2 \
	VMINPS Z29, A, A \
	VMINPS Z29, B, B \
L2: \
	TESTQ $8, R11 \
	JZ L3 \
	VADDPS (R13), A, A \
	VADDPS 64(R13), B, B \
	ADDQ R14, R13 \
L3: \
	VMOVUPS A, (DX) \
	VMOVUPS B, 64(DX) \
	ADDQ R10, DX

// func pwTile8x32(x *float32, xs uintptr, w *float32, kn int, out *float32, os uintptr, bias *float32, res *float32, rs uintptr, flags uintptr)
//
// One tile of pointwiseDirect: 8 rows of x (xs bytes apart) times kn rows
// of a packed strip w of 32 columns. Each output is one chain of fused
// multiply-adds from zero in k order (the chain the Go backend's AVX-512
// MatMul kernel runs for one contraction panel), then, by flags:
//   1 (pwAdd):   out + chain, as the backend adds a panel to the previous ones;
//   2 (pwFinal): + bias (32 values), and with
//   4 (pwReLU):  max(·, 0), or
//  16 (pwReLU6): min(max(·, 0), 6), and with
//   8 (pwRes):   + res (rows rs bytes apart), the graph's residual Add;
// stored into out (rows os bytes apart). kn >= 1.
TEXT ·pwTile8x32(SB), NOSPLIT, $0-80
	ARGS
	ZERO8
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15

loop:
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	BROADCAST8
	VFMADD231PS Z16, Z18, Z0
	VFMADD231PS Z17, Z18, Z1
	VFMADD231PS Z16, Z19, Z2
	VFMADD231PS Z17, Z19, Z3
	VFMADD231PS Z16, Z20, Z4
	VFMADD231PS Z17, Z20, Z5
	VFMADD231PS Z16, Z21, Z6
	VFMADD231PS Z17, Z21, Z7
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z16, Z23, Z10
	VFMADD231PS Z17, Z23, Z11
	VFMADD231PS Z16, Z24, Z12
	VFMADD231PS Z17, Z24, Z13
	VFMADD231PS Z16, Z25, Z14
	VFMADD231PS Z17, Z25, Z15
	NEXTK
	JNZ loop

	TESTQ $2, R11
	JZ epilogue
	VMOVUPS (R12), Z26
	VMOVUPS 64(R12), Z27
	ACTCONST

epilogue:
	ROW(Z0, Z1, panel0, act0, store0)
	ROW(Z2, Z3, panel1, act1, store1)
	ROW(Z4, Z5, panel2, act2, store2)
	ROW(Z6, Z7, panel3, act3, store3)
	ROW(Z8, Z9, panel4, act4, store4)
	ROW(Z10, Z11, panel5, act5, store5)
	ROW(Z12, Z13, panel6, act6, store6)
	ROW(Z14, Z15, panel7, act7, store7)
	VZEROUPPER
	RET

// ROW16 is ROW for a tile of 16 columns (accumulator A).
#define ROW16(A, L1, L2, L3) \
	TESTQ $1, R11 \
	JZ L1 \
	VADDPS (DX), A, A \
L1: \
	TESTQ $2, R11 \
	JZ L3 \
	VADDPS Z26, A, A \
	TESTQ $20, R11 \
	JZ L2 \
	VMAXPS Z28, A, A \
	TESTQ $16, R11 \
	JZ L2 \
	VMINPS Z29, A, A \
L2: \
	TESTQ $8, R11 \
	JZ L3 \
	VADDPS (R13), A, A \
	ADDQ R14, R13 \
L3: \
	VMOVUPS A, (DX) \
	ADDQ R10, DX

// func pwTile8x16(x *float32, xs uintptr, w *float32, kn int, out *float32, os uintptr, bias *float32, res *float32, rs uintptr, flags uintptr)
//
// pwTile8x32 for the first 16 columns of the strip (a layer's last, half
// strip): the same chains and epilogue, 16 outputs a row. The strip's rows
// stay 32 columns (128 bytes) apart.
TEXT ·pwTile8x16(SB), NOSPLIT, $0-80
	ARGS
	ZERO8

loop16:
	VMOVUPS (DI), Z16
	BROADCAST8
	VFMADD231PS Z16, Z18, Z0
	VFMADD231PS Z16, Z19, Z1
	VFMADD231PS Z16, Z20, Z2
	VFMADD231PS Z16, Z21, Z3
	VFMADD231PS Z16, Z22, Z4
	VFMADD231PS Z16, Z23, Z5
	VFMADD231PS Z16, Z24, Z6
	VFMADD231PS Z16, Z25, Z7
	NEXTK
	JNZ loop16

	TESTQ $2, R11
	JZ epilogue16
	VMOVUPS (R12), Z26
	ACTCONST

epilogue16:
	ROW16(Z0, h0, hact0, hstore0)
	ROW16(Z1, h1, hact1, hstore1)
	ROW16(Z2, h2, hact2, hstore2)
	ROW16(Z3, h3, hact3, hstore3)
	ROW16(Z4, h4, hact4, hstore4)
	ROW16(Z5, h5, hact5, hstore5)
	ROW16(Z6, h6, hact6, hstore6)
	ROW16(Z7, h7, hact7, hstore7)
	VZEROUPPER
	RET
