package manuscript

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

// Test documents are built at test time with real tools: groff (PDF), ghostscript (encryption and
// image-only "scans"), archive/tar (LaTeX source bundles).

func testRegistry(t testing.TB) *configs.Registry {
	t.Helper()
	reg, err := configs.LoadRegistry(filepath.Join("testdata", "registry.yaml"))
	if err != nil {
		t.Fatalf("test registry: %v", err)
	}
	return reg
}

func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (CI installs it via .ci/run): %v", name, err)
	}
}

// groffPDF typesets ms source into dir/name with groff -ms -Tpdf.
func groffPDF(t testing.TB, dir, name, src string) string {
	t.Helper()
	needTool(t, "groff")
	out := filepath.Join(dir, name)
	cmd := exec.Command("groff", "-ms", "-Tpdf")
	cmd.Stdin = strings.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("groff: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func gs(t testing.TB, args ...string) {
	t.Helper()
	needTool(t, "gs")
	cmd := exec.Command("gs", append([]string{"-q", "-dNOPAUSE", "-dBATCH", "-dSAFER"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gs %v: %v: %s", args, err, out)
	}
}

// writeTarGz writes files (name → content) as an arXiv-style .tar.gz source bundle.
func writeTarGz(t testing.TB, path string, files map[string]string, order []string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range order {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// faceMS is a three-page face-recognition paper: MegaFace in related work, training on MS1MV2 in
// the experiments (page 2), the MS-Celeb-1M paper in the references.
const faceMS = `.TL
ArcMargin: Additive Margins for Deep Face Recognition
.AU
A. Author
.AB
We propose an additive angular margin loss for face recognition.
.AE
.NH
Introduction
.PP
Face recognition needs discriminative features.
Margins between classes help.
.NH
Related Work
.PP
Large benchmarks drove progress.
Kemelmacher-Shlizerman et al. introduced MegaFace with one million distractors [2].
Margin losses were proposed before.
.bp
.NH
Experiments
.PP
Implementation details follow.
We train our ResNet-100 on MS1MV2 for 20 epochs with a batch size of 512.
We report verification accuracy on LFW.
.NH
Conclusion
.PP
Margins work.
.bp
.SH
References
.IP [1] 4
Y. Guo, L. Zhang, Y. Hu, X. He, J. Gao. MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition. ECCV 2016. arXiv:1607.08221.
.IP [2] 4
I. Kemelmacher-Shlizerman et al. The MegaFace Benchmark. CVPR 2016.
`

// imagenetMS uses only ImageNet-1k.
const imagenetMS = `.TL
Sharper Residual Networks
.AB
We study residual networks.
.AE
.NH
Method
.PP
We modify the bottleneck block of ResNet-50.
.NH
Experiments
.PP
We train on ImageNet-1k (ILSVRC 2012) for 90 epochs and report top-1 accuracy.
Training uses 1.28 million images in 1000 classes.
.SH
References
.IP [1] 4
O. Russakovsky et al. ImageNet Large Scale Visual Recognition Challenge. IJCV 2015.
.IP [2] 4
J. Deng, W. Dong, R. Socher, L.-J. Li, K. Li, L. Fei-Fei. ImageNet: A Large-Scale Hierarchical Image Database. CVPR 2009.
`

// tinyAuditBundle is a LaTeX bundle auditing Tiny Images, with \input, a .bib, and a comment
// that must not count.
func tinyAuditBundle() (map[string]string, []string) {
	files := map[string]string{
		"main.tex": `\documentclass{article}
\title{Large Image Datasets: An Audit of 80 Million Tiny Images}
\begin{document}
\maketitle
\begin{abstract}
We audit the 80 Million Tiny Images dataset and document offensive labels and non-consensual images.
\end{abstract}
\input{sections/intro}
\input{sections/method.tex}
% We train on Tiny Images. (a comment: must be ignored)
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
`,
		"sections/intro.tex": `\section{Introduction}
Large datasets shape computer vision.
In this paper we critically examine Tiny Images~\cite{torralba2008tiny}, a dataset of 79 million images.
`,
		"sections/method.tex": `\section{Method}
We count the WordNet nouns used as class labels and flag derogatory terms.

We analyse the images of each flagged category with a pornography classifier.
`,
		"refs.bib": `@article{torralba2008tiny,
  title   = {80 Million Tiny Images: A Large Data Set for Nonparametric Object and Scene Recognition},
  author  = {Torralba, Antonio and Fergus, Rob and Freeman, William T.},
  journal = {IEEE TPAMI},
  year    = {2008},
  doi     = {10.1109/TPAMI.2008.128}
}
@misc{other,
  title = "An unrelated paper",
  year = 2020
}
`,
	}
	return files, []string{"main.tex", "sections/intro.tex", "sections/method.tex", "refs.bib"}
}

// sdMarkdown fine-tunes from a model card (Stable Diffusion v1-5): uses LAION-5B through it.
const sdMarkdown = `# DreamTuning: Personalised Text-to-Image Generation

## Abstract

We personalise a text-to-image model from a handful of photos.

## Related Work

Diffusion models generate images from text.

## Method

Our base model is [runwayml/stable-diffusion-v1-5](https://huggingface.co/runwayml/stable-diffusion-v1-5).
We fine-tune it for 800 steps on five images of a subject.

## Results

Samples keep the subject's identity.
`
