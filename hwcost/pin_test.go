package hwcost

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// The Pixel 4 targets and coral-edgetpu are what running searches optimise:
// their fitted parameters, and the latency of every zoo model on them, must
// not move when other targets or Adapt change. The values below were printed
// once from main at d07e29b (Lookup(name, nil).Params() marshalled to JSON;
// ArchLatency(target, blocks.Model(name), 0) printed with %v), before the
// adapt branch's changes.

var pinnedParams = map[string]string{
	"pixel4-cpu":     `{"peak_gmacs":120.42929056730003,"eff_conv":0.7106982446186163,"eff_fused":0.8244366316040173,"eff_dw":0.1679650689311589,"eff_fc":0.5,"eff_pool":0.022072362930681846,"bandwidth_gbs":9.530691155994043,"layer_overhead_us":13.961788753468044,"eltwise_overhead_us":5.871477533769972,"fixed_overhead_ms":0.17437908947651148,"on_chip_mb":0}`,
	"pixel4-gpu":     `{"peak_gmacs":170.243486855329,"eff_conv":0.5962993028616083,"eff_fused":0.41097888486244494,"eff_dw":0.33648650809745223,"eff_fc":0.3,"eff_pool":0.09962002791273146,"bandwidth_gbs":15.022994435240005,"layer_overhead_us":24.83398597545339,"eltwise_overhead_us":30.10699213741632,"fixed_overhead_ms":0.7054057497126044,"on_chip_mb":0}`,
	"pixel4-dsp":     `{"peak_gmacs":427.3971083604277,"eff_conv":0.4999998110834066,"eff_fused":0.7504648546410526,"eff_dw":0.20530792720337582,"eff_fc":0.2,"eff_pool":0.2000000213207069,"bandwidth_gbs":7.4755449390709074,"layer_overhead_us":9.358998598232422,"eltwise_overhead_us":8.922929788956417,"fixed_overhead_ms":0.8787363330890109,"on_chip_mb":0}`,
	"pixel4-edgetpu": `{"peak_gmacs":1223.5204713176665,"eff_conv":0.30005195141200325,"eff_fused":0.8361902513562268,"eff_dw":0.10005340150463017,"eff_fc":0.2,"eff_pool":0.008481022442496095,"bandwidth_gbs":4.543829478701822,"layer_overhead_us":4.5958020389969665,"eltwise_overhead_us":4.5958020389969665,"fixed_overhead_ms":0.4411432276504366,"on_chip_mb":8}`,
	"coral-edgetpu":  `{"peak_gmacs":668.2048648843535,"eff_conv":0.30005196290791675,"eff_fused":0.7943195414594557,"eff_dw":0.1000534012977536,"eff_fc":0.2,"eff_pool":0.00848102228604166,"bandwidth_gbs":41.762791461187945,"layer_overhead_us":0.22757868962384942,"eltwise_overhead_us":2.999557181441933,"fixed_overhead_ms":0.4923934034574943,"on_chip_mb":8}`,
}

var pinnedCosts = []struct {
	target, model string
	ms            float64
}{
	{"pixel4-cpu", "mobilenet_v2", 4.613395366297527},
	{"pixel4-cpu", "mobilenet_v3_large_min", 3.6010091923716927},
	{"pixel4-cpu", "multi_avg", 5.856945936517445},
	{"pixel4-cpu", "multi_max", 4.8592713760335595},
	{"pixel4-cpu", "mobilenet_edgetpu", 11.247323086537598},
	{"pixel4-cpu", "efficientnet_lite0", 5.821543977109976},
	{"pixel4-cpu", "mnv4_conv_s", 3.1226189195810976},
	{"pixel4-cpu", "mnv4_conv_m", 12.524439343887042},
	{"pixel4-cpu", "mobilenet_v1", 6.181293735117436},
	{"pixel4-cpu", "mobilenet_v2_0.5", 2.507905289952908},
	{"pixel4-cpu", "mobileone_s0", 3.8235983896739274},
	{"pixel4-cpu", "mnv4_conv_l", 62.51612198106865},
	{"pixel4-cpu", "efficientnet_lite1", 8.857444474868823},
	{"pixel4-cpu", "efficientnet_lite2", 11.838074453988158},
	{"pixel4-cpu", "efficientnet_lite3", 17.751165567026806},
	{"pixel4-cpu", "efficientnet_lite4", 30.94494926242296},
	{"pixel4-gpu", "mobilenet_v2", 5.258773826175889},
	{"pixel4-gpu", "mobilenet_v3_large_min", 4.537881123949093},
	{"pixel4-gpu", "multi_avg", 6.020539230059113},
	{"pixel4-gpu", "multi_max", 5.202926563392085},
	{"pixel4-gpu", "mobilenet_edgetpu", 14.727897004168751},
	{"pixel4-gpu", "efficientnet_lite0", 5.691546628215584},
	{"pixel4-gpu", "mnv4_conv_s", 4.277981312948962},
	{"pixel4-gpu", "mnv4_conv_m", 12.079467560357578},
	{"pixel4-gpu", "mobilenet_v1", 5.531200321606519},
	{"pixel4-gpu", "mobilenet_v2_0.5", 3.7327783890028656},
	{"pixel4-gpu", "mobileone_s0", 4.068079391677868},
	{"pixel4-gpu", "mnv4_conv_l", 47.08198541969764},
	{"pixel4-gpu", "efficientnet_lite1", 7.98849319955825},
	{"pixel4-gpu", "efficientnet_lite2", 9.920307733191983},
	{"pixel4-gpu", "efficientnet_lite3", 13.983073334717494},
	{"pixel4-gpu", "efficientnet_lite4", 22.895448455316316},
	{"pixel4-dsp", "mobilenet_v2", 3.8352092716279027},
	{"pixel4-dsp", "mobilenet_v3_large_min", 3.330903746838864},
	{"pixel4-dsp", "multi_avg", 4.060469586230456},
	{"pixel4-dsp", "multi_max", 3.5774007996696873},
	{"pixel4-dsp", "mobilenet_edgetpu", 5.493252556229675},
	{"pixel4-dsp", "efficientnet_lite0", 3.986448782159823},
	{"pixel4-dsp", "mnv4_conv_s", 2.5793974873454277},
	{"pixel4-dsp", "mnv4_conv_m", 5.9815192341446926},
	{"pixel4-dsp", "mobilenet_v1", 3.481443085013136},
	{"pixel4-dsp", "mobilenet_v2_0.5", 2.7781327086998817},
	{"pixel4-dsp", "mobileone_s0", 2.6895389756876367},
	{"pixel4-dsp", "mnv4_conv_l", 21.47497616710589},
	{"pixel4-dsp", "efficientnet_lite1", 5.3003730671652765},
	{"pixel4-dsp", "efficientnet_lite2", 6.278542294817356},
	{"pixel4-dsp", "efficientnet_lite3", 8.62546796407704},
	{"pixel4-dsp", "efficientnet_lite4", 13.253251439713315},
	{"pixel4-edgetpu", "mobilenet_v2", 3.8562049829054916},
	{"pixel4-edgetpu", "mobilenet_v3_large_min", 2.9720178580299583},
	{"pixel4-edgetpu", "multi_avg", 3.774885289788781},
	{"pixel4-edgetpu", "multi_max", 3.2275052005623466},
	{"pixel4-edgetpu", "mobilenet_edgetpu", 3.7921558030038716},
	{"pixel4-edgetpu", "efficientnet_lite0", 3.859901879773941},
	{"pixel4-edgetpu", "mnv4_conv_s", 1.698200181594216},
	{"pixel4-edgetpu", "mnv4_conv_m", 4.997643340896728},
	{"pixel4-edgetpu", "mobilenet_v1", 2.855881233847044},
	{"pixel4-edgetpu", "mobilenet_v2_0.5", 2.4558566578143157},
	{"pixel4-edgetpu", "mobileone_s0", 2.352935184993255},
	{"pixel4-edgetpu", "mnv4_conv_l", 21.039458010482043},
	{"pixel4-edgetpu", "efficientnet_lite1", 5.596126104877432},
	{"pixel4-edgetpu", "efficientnet_lite2", 6.902379297095953},
	{"pixel4-edgetpu", "efficientnet_lite3", 9.86410107854746},
	{"pixel4-edgetpu", "efficientnet_lite4", 15.811428527706484},
	{"coral-edgetpu", "mobilenet_v2", 1.3386315405542693},
	{"coral-edgetpu", "mobilenet_v3_large_min", 1.0919592263571483},
	{"coral-edgetpu", "multi_avg", 1.5505651385354051},
	{"coral-edgetpu", "multi_max", 1.3552731805811788},
	{"coral-edgetpu", "mobilenet_edgetpu", 2.516557283900629},
	{"coral-edgetpu", "efficientnet_lite0", 1.646789116906015},
	{"coral-edgetpu", "mnv4_conv_s", 0.9842359252396145},
	{"coral-edgetpu", "mnv4_conv_m", 2.8604045747770623},
	{"coral-edgetpu", "mobilenet_v1", 1.632143318417012},
	{"coral-edgetpu", "mobilenet_v2_0.5", 0.8914623449130181},
	{"coral-edgetpu", "mobileone_s0", 1.1666341254845924},
	{"coral-edgetpu", "mnv4_conv_l", 13.160807832694621},
	{"coral-edgetpu", "efficientnet_lite1", 2.314661206399383},
	{"coral-edgetpu", "efficientnet_lite2", 2.973629109364141},
	{"coral-edgetpu", "efficientnet_lite3", 4.2216784921400246},
	{"coral-edgetpu", "efficientnet_lite4", 7.13662449938948},
}

func TestPinnedTargets(t *testing.T) {
	for name, want := range pinnedParams {
		tg, err := Lookup(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(tg.Params())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s parameters moved:\n got %s\nwant %s", name, got, want)
		}
	}
	models := map[string]bool{}
	for _, c := range pinnedCosts {
		models[c.model] = true
		tg, err := Lookup(c.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := blocks.Model(c.model)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := ArchLatency(tg, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ms/c.ms-1) > 1e-12 {
			t.Errorf("%s on %s: %v ms, pinned %v ms", c.model, c.target, ms, c.ms)
		}
	}
	// A zoo model added since the pin is not covered: say so rather than
	// pass silently.
	for _, m := range blocks.ReferenceNames() {
		if !models[m] {
			t.Errorf("zoo model %s has no pinned cost (add it from main)", m)
		}
	}
}
