//go:build goexperiment.simd && amd64

#include "textflag.h"

// func pwTile8x32(x *float32, xs uintptr, w *float32, kn int, out *float32, os uintptr, bias *float32, res *float32, rs uintptr, flags uintptr)
//
// One tile of pointwiseDirect: 8 rows of x (xs bytes apart) times kn rows
// of a packed strip w of 32 columns. Each output is one chain of fused
// multiply-adds from zero in k order (the chain the Go backend's AVX-512
// MatMul kernel runs for one contraction panel), then, by flags:
//   1 (pwAdd):   out + chain, as the backend adds a panel to the previous ones;
//   2 (pwFinal): + bias (32 values), and with
//   4 (pwReLU):  max(·, 0), and with
//   8 (pwRes):   + res (rows rs bytes apart), the graph's residual Add;
// stored into out (rows os bytes apart). kn >= 1.
TEXT ·pwTile8x32(SB), NOSPLIT, $0-80
	MOVQ x+0(FP), SI
	MOVQ xs+8(FP), BX
	MOVQ w+16(FP), DI
	MOVQ kn+24(FP), CX
	MOVQ out+32(FP), DX
	MOVQ os+40(FP), R10
	MOVQ bias+48(FP), R12
	MOVQ res+56(FP), R13
	MOVQ rs+64(FP), R14
	MOVQ flags+72(FP), R11
	LEAQ (SI)(BX*2), R8
	ADDQ BX, R8 // row 3
	LEAQ (R8)(BX*2), R9
	ADDQ BX, R9 // row 6
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
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
	VBROADCASTSS (SI), Z18
	VBROADCASTSS (SI)(BX*1), Z19
	VBROADCASTSS (SI)(BX*2), Z20
	VBROADCASTSS (R8), Z21
	VBROADCASTSS (SI)(BX*4), Z22
	VBROADCASTSS (R8)(BX*2), Z23
	VBROADCASTSS (R9), Z24
	VBROADCASTSS (R8)(BX*4), Z25
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
	ADDQ $4, SI
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $128, DI
	DECQ CX
	JNZ loop

	TESTQ $2, R11
	JZ epilogue
	VMOVUPS (R12), Z26
	VMOVUPS 64(R12), Z27
	VXORPS Z28, Z28, Z28

epilogue:
	// row 0
	TESTQ $1, R11
	JZ nopanel0
	VADDPS (DX), Z0, Z0
	VADDPS 64(DX), Z1, Z1
nopanel0:
	TESTQ $2, R11
	JZ store0
	VADDPS Z26, Z0, Z0
	VADDPS Z27, Z1, Z1
	TESTQ $4, R11
	JZ norelu0
	VMAXPS Z28, Z0, Z0
	VMAXPS Z28, Z1, Z1
norelu0:
	TESTQ $8, R11
	JZ store0
	VADDPS (R13), Z0, Z0
	VADDPS 64(R13), Z1, Z1
	ADDQ R14, R13
store0:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	ADDQ R10, DX
	// row 1
	TESTQ $1, R11
	JZ nopanel1
	VADDPS (DX), Z2, Z2
	VADDPS 64(DX), Z3, Z3
nopanel1:
	TESTQ $2, R11
	JZ store1
	VADDPS Z26, Z2, Z2
	VADDPS Z27, Z3, Z3
	TESTQ $4, R11
	JZ norelu1
	VMAXPS Z28, Z2, Z2
	VMAXPS Z28, Z3, Z3
norelu1:
	TESTQ $8, R11
	JZ store1
	VADDPS (R13), Z2, Z2
	VADDPS 64(R13), Z3, Z3
	ADDQ R14, R13
store1:
	VMOVUPS Z2, (DX)
	VMOVUPS Z3, 64(DX)
	ADDQ R10, DX
	// row 2
	TESTQ $1, R11
	JZ nopanel2
	VADDPS (DX), Z4, Z4
	VADDPS 64(DX), Z5, Z5
nopanel2:
	TESTQ $2, R11
	JZ store2
	VADDPS Z26, Z4, Z4
	VADDPS Z27, Z5, Z5
	TESTQ $4, R11
	JZ norelu2
	VMAXPS Z28, Z4, Z4
	VMAXPS Z28, Z5, Z5
norelu2:
	TESTQ $8, R11
	JZ store2
	VADDPS (R13), Z4, Z4
	VADDPS 64(R13), Z5, Z5
	ADDQ R14, R13
store2:
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	ADDQ R10, DX
	// row 3
	TESTQ $1, R11
	JZ nopanel3
	VADDPS (DX), Z6, Z6
	VADDPS 64(DX), Z7, Z7
nopanel3:
	TESTQ $2, R11
	JZ store3
	VADDPS Z26, Z6, Z6
	VADDPS Z27, Z7, Z7
	TESTQ $4, R11
	JZ norelu3
	VMAXPS Z28, Z6, Z6
	VMAXPS Z28, Z7, Z7
norelu3:
	TESTQ $8, R11
	JZ store3
	VADDPS (R13), Z6, Z6
	VADDPS 64(R13), Z7, Z7
	ADDQ R14, R13
store3:
	VMOVUPS Z6, (DX)
	VMOVUPS Z7, 64(DX)
	ADDQ R10, DX
	// row 4
	TESTQ $1, R11
	JZ nopanel4
	VADDPS (DX), Z8, Z8
	VADDPS 64(DX), Z9, Z9
nopanel4:
	TESTQ $2, R11
	JZ store4
	VADDPS Z26, Z8, Z8
	VADDPS Z27, Z9, Z9
	TESTQ $4, R11
	JZ norelu4
	VMAXPS Z28, Z8, Z8
	VMAXPS Z28, Z9, Z9
norelu4:
	TESTQ $8, R11
	JZ store4
	VADDPS (R13), Z8, Z8
	VADDPS 64(R13), Z9, Z9
	ADDQ R14, R13
store4:
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, 64(DX)
	ADDQ R10, DX
	// row 5
	TESTQ $1, R11
	JZ nopanel5
	VADDPS (DX), Z10, Z10
	VADDPS 64(DX), Z11, Z11
nopanel5:
	TESTQ $2, R11
	JZ store5
	VADDPS Z26, Z10, Z10
	VADDPS Z27, Z11, Z11
	TESTQ $4, R11
	JZ norelu5
	VMAXPS Z28, Z10, Z10
	VMAXPS Z28, Z11, Z11
norelu5:
	TESTQ $8, R11
	JZ store5
	VADDPS (R13), Z10, Z10
	VADDPS 64(R13), Z11, Z11
	ADDQ R14, R13
store5:
	VMOVUPS Z10, (DX)
	VMOVUPS Z11, 64(DX)
	ADDQ R10, DX
	// row 6
	TESTQ $1, R11
	JZ nopanel6
	VADDPS (DX), Z12, Z12
	VADDPS 64(DX), Z13, Z13
nopanel6:
	TESTQ $2, R11
	JZ store6
	VADDPS Z26, Z12, Z12
	VADDPS Z27, Z13, Z13
	TESTQ $4, R11
	JZ norelu6
	VMAXPS Z28, Z12, Z12
	VMAXPS Z28, Z13, Z13
norelu6:
	TESTQ $8, R11
	JZ store6
	VADDPS (R13), Z12, Z12
	VADDPS 64(R13), Z13, Z13
	ADDQ R14, R13
store6:
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, 64(DX)
	ADDQ R10, DX
	// row 7
	TESTQ $1, R11
	JZ nopanel7
	VADDPS (DX), Z14, Z14
	VADDPS 64(DX), Z15, Z15
nopanel7:
	TESTQ $2, R11
	JZ store7
	VADDPS Z26, Z14, Z14
	VADDPS Z27, Z15, Z15
	TESTQ $4, R11
	JZ norelu7
	VMAXPS Z28, Z14, Z14
	VMAXPS Z28, Z15, Z15
norelu7:
	TESTQ $8, R11
	JZ store7
	VADDPS (R13), Z14, Z14
	VADDPS 64(R13), Z15, Z15
	ADDQ R14, R13
store7:
	VMOVUPS Z14, (DX)
	VMOVUPS Z15, 64(DX)
	ADDQ R10, DX
	VZEROUPPER
	RET
