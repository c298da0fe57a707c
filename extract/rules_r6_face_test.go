package extract

import (
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// TestRound6FaceRules: one case per round-6 (face) rule (configs/relations.yaml, "round 6 (face)"
// in `cues`; extract/rules_r6_face.go; two alias fixes in configs/registry.yaml), each from a real
// sentence of the round-6 dev records (repository/path given; the committed texts are in
// testdata/real/indexed.jsonl), with a guard beside it that the rule must leave alone. The cases
// the round fixes fail on the code before them: the first six on main before round 6 (64563e8), the
// five batch-2 cases on the branch before the batch-2 rules (e756536); the guards pass on both.
func TestRound6FaceRules(t *testing.T) {
	m := testMatcher(t)
	repo := func(title, text string) artifact.Artifact {
		return artifact.Artifact{ID: "gh:file:" + title, Source: "github", Kind: artifact.KindRepository, Title: title, Text: text}
	}
	paper := func(text string) artifact.Artifact {
		return artifact.Artifact{ID: "arxiv:x", Source: "arxiv", Kind: artifact.KindPaper, Title: "A paper", Text: text}
	}
	const (
		// JDAI-CV/fast-reid/projects/FastDistill/README.md
		fastDistill = "## Datasets Prepration\n- DukeMTMC-reID\n\n\n## Train and Evaluation\n```shell\n# loss distillation\npython3 projects/FastDistill/train_net.py \\\n--config-file projects/FastDistill/configs/kd-sbs_r101ibn-sbs_r34.yaml \\\n--num-gpus 4 \\\nMODEL.META_ARCHITECTURE Distiller\nKD.MODEL_CONFIG projects/FastDistill/logs/dukemtmc/r101_ibn/config.yaml \\\nKD.MODEL_WEIGHTS projects/FastDistill/logs/dukemtmc/r101_ibn/model_best.pth\n```\n"
		// open-mmlab/mmpretrain/configs/swin_transformer/README.md
		swinRows = "| `swin-base_in21k-pre-3rdparty_in1k`\\*      | From scratch |   87.77    |   15.14   |   85.16   |   97.50   |    [config](swin-base_16xb64_in1k.py)     | [model](https://download.openmmlab.com/mmclassification/v0/swin-transformer/convert/swin_base_patch4_window7_224_22kto1k-f967f799.pth) |\n| `swin-large_in21k-pre-3rdparty_in1k`\\*     | From scratch |   196.53   |   34.04   |   86.24   |   97.88   |    [config](swin-large_16xb64_in1k.py)    | [model](https://download.openmmlab.com/mmclassification/v0/swin-transformer/convert/swin_large_patch4_window7_224_22kto1k-5f0996db.pth) |\n\n*Models with * are converted from the [official repo](https://github.com/microsoft/Swin-Transformer/blob/777f6c66604bb5579086c4447efe3620344d95a9/models/swin_transformer.py#L458). The config files of these models are only for inference. We haven't reprodcue the training results.*\n"
		// AMDS123/amds123.github.io, arXiv:1806.00365 as posted
		msChallenge = "Face verification is a relatively easy task with the help of discriminative features from deep neural networks. However, it is still a challenge to recognize faces on millions of identities while keeping high performance and efficiency. The challenge 2 of MS-Celeb-1M is a classification task. However, the number of identities is too large and it is not that elegant to treat the task as an image classification task. We treat the classification task as similarity search and do experiments on different similarity search strategies. Similarity search strategy accelerates the speed of searching and boosts the accuracy of final results. The model used for extracting features is a single deep neural network pretrained on CASIA-Webface, which is not trained on the base set or novel set offered by official. Finally, we rank \\textbf{3rd}, while the speed of searching is 1ms/image."
		// deepinsight/insightface/recognition/SubCenter-ArcFace/README.md
		subcenter = "### 2. Training Dataset\n\n1. MS1MV0 (The noise rate is around 50%), download link ([baidulink](https://pan.baidu.com/s/1bSamN5CLiSrxOuGi-Lx7tw), code ``8ql0``)  ([googledrive](TODO))\n\n### 3. Training Steps\n\n1). Train Sub-center ArcFace (``loss_K=3``) on MS1MV0.\n"
		// deepinsight/insightface/Evaluation/Megaface/README.md
		megaTestpack = "\nDownload megaface testpack data from [baiducloud](https://pan.baidu.com/s/1h4ezfwJiXClbZDdg1RX0MQ) or [dropbox](https://www.dropbox.com/s/5ko2dcd1x7vn37w/megaface_testpack_v1.0.zip?dl=0) and unzip it to ``data/``, then check and call ``run.sh`` to evaluate insightface model performance.\n\n[Devkit](https://www.dropbox.com/s/zv1ctjxmghyy7ow/devkit.tar?dl=0)\n"
		// PistonY/FaceRecognitionEvalTools/MegaFace/README.md
		cvlMS1MV2 = "### MS1MV2\n\n1. In terminal, do `DATA_ROOT=/path/to/data_root`\n2. `mkdir -p $DATA_ROOT/MS1MV2`\n1. Download a zipfile from https://drive.google.com/file/d/1SXS4-Am3bsKSK615qbYdbA_FMVh3sAvR/view\n2. `unzip faces_emore.zip`\n3. `cp faces_emore/train.rec $DATA_ROOT/MS1MV2/train.rec`\n4. `cp faces_emore/train.idx $DATA_ROOT/MS1MV2/train.idx`\n5. `rm -rf faces_emore faces_emore.zip`\n5. (Optional) For training with preprocessed landmarks, (models like KP-RPE), `ldmk_5points.csv` need to be prepared. Run `python predict_landmark.py --source_dir $DATA_ROOT/MS1MV2`\n"
		amsoftmax = "# face_rec_amsoftmax\n\nAM-Softmax matcher was utilized to train on the recently released VGGFace2 dataset that consists of 7,773 subjects and 1,428,908 images.\n\nWe evaluated the trained model on the LFW benchmark dataset and achieved a classification accuracy of 99.35%.\n\nSecond, download the trained model:\n\nhttps://1drv.ms/u/s!AhFf7JiY9UVbgUx1BZzRXILp-MQo\n\nAfter that, runs the demo code. \n"
		deit3Rows = "| DeiT3-S\\* | ImageNet-21k |  224x224   |   22.06   |   4.61   |   83.06   |   96.77   |    [config](./deit3-small-p16_64xb64_in1k.py)    | [model](https://download.openmmlab.com/mmclassification/v0/deit3/deit3-small-p16_in21k-pre_3rdparty_in1k_20221009-dcd90827.pth) |\n| DeiT3-S\\* | ImageNet-21k |  384x384   |   22.21   |  15.52   |   84.84   |   97.48   | [config](./deit3-small-p16_64xb64_in1k-384px.py) | [model](https://download.openmmlab.com/mmclassification/v0/deit3/deit3-small-p16_in21k-pre_3rdparty_in1k-384px_20221009-de116dd7.pth) |\n"
		megaTool  = "# MegaFace Eval Tools\n\n## Usage\n\n##### Step1. Prepare dataset and tools.\n1. Download megaface package provided by [`insightface`](https://github.com/deepinsight/insightface/tree/master/evaluation/Megaface).\n (please follow LICENSE strictly)\n2. Unzip this package and get file structure as below:\n    ```\n    megaface_root\n    ├── devkit\\\n    ├── facescrub_images\\\n    ├── megaface_images\\\n    └── megaface_noises.txt\n    ```\n"
	)
	cases := []scoredCase{
		// a weight file as a config override in a training command is a local training output
		{"KD.MODEL_WEIGHTS logs/dukemtmc/…/model_best.pth", repo("JDAI-CV/fast-reid", fastDistill), []string{"dukemtmc/uses"}},
		{"guard: MODEL.WEIGHTS with a released file", repo("x/reid", "We train on DukeMTMC-reID.\n\n```\npython tools/train_net.py --eval-only MODEL.WEIGHTS https://github.com/x/reid/releases/download/v1/dukemtmc_bot_R50.pth\n```\n"), []string{"dukemtmc/model", "dukemtmc/uses"}},
		// a "From scratch" table cell does not cancel the lineage of an in21k checkpoint id
		{"in21k-pre rows with a From scratch cell", repo("open-mmlab/mmpretrain", swinRows), []string{"imagenet-21k-fall11/model"}},
		{"guard: an ImageNet-1k row with a From scratch cell", repo("open-mmlab/mmpretrain", "| `swin-tiny_16xb64_in1k`                    | From scratch |   28.29    |   4.36    |   81.18   |   95.61   |    [config](swin-tiny_16xb64_in1k.py)     | [model](https://download.openmmlab.com/mmclassification/v0/swin-transformer/swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth) |\n"), nil},
		// a paper that took part in a challenge on the dataset and reports its rank
		{"the challenge 2 of MS-Celeb-1M … we rank 3rd", paper(msChallenge), []string{"ms-celeb-1m/uses"}},
		{"guard: the challenge named without a result", paper("The challenge 2 of MS-Celeb-1M is a classification task. We study similarity search strategies on synthetic data."), nil},
		// registry: MS1MV0, insightface's name for the raw MS-Celeb-1M release
		{"MS1MV0 on Baidu Pan", repo("deepinsight/insightface", subcenter), []string{"ms-celeb-1m/data"}},
		// registry: the MegaFace evaluation kit words make the weak alias MegaFace count
		{"the MegaFace test pack on Baidu/Dropbox", repo("deepinsight/insightface", megaTestpack), []string{"megaface/data"}},
		{"a MegaFace evaluation tool", repo("PistonY/FaceRecognitionEvalTools", megaTool), []string{"megaface/uses"}},
		{"guard: MegaFace as a product name", repo("x/app", "MegaFace Studio app: make avatars and filters with MegaFace Pro.\n"), nil},
		// batch 2 (rules written after the batch's first run)
		// a dataset section that downloads a zip from a file host (mk-minchul/CVLface/docs/pages/train_datasets.md)
		{"### MS1MV2: download a zipfile from Drive", repo("mk-minchul/CVLface", cvlMS1MV2), []string{"ms-celeb-1m/data"}},
		{"guard: a model list on Drive", repo("x/face", "## Pretrained models\n\nWe train on MS1MV2. Download the models from Google Drive:\n\n| backbone | model |\n| --- | --- |\n| r50 | [r50.pth](https://drive.google.com/file/d/1x/view) |\n"), []string{"ms-celeb-1m/model", "ms-celeb-1m/uses"}},
		// a host link introduced as the trained model (cunjian/face_rec_amsoftmax/README.md)
		{"download the trained model: a OneDrive link", repo("cunjian/face_rec_amsoftmax", amsoftmax), []string{"vggface2/model", "vggface2/uses"}},
		{"guard: a OneDrive link introduced as the dataset", repo("x/faces", "This is the VGGFace2 dataset, aligned.\n\nDownload the dataset:\n\nhttps://1drv.ms/u/s!AhFf7JiY9UVbgUx1\n"), []string{"vggface2/data"}},
		// DeiT checkpoints pre-trained on ImageNet-21k (open-mmlab/mmpretrain/configs/deit3/README.md)
		{"DeiT3 rows with ImageNet-21k pre-training", repo("open-mmlab/mmpretrain", deit3Rows), []string{"imagenet-21k-fall11/model"}},
		{"guard: DeiT3 rows from scratch", repo("open-mmlab/mmpretrain", "| DeiT3-S\\* | From scratch |  224x224   |   22.06   |   4.61   |   81.35   |   95.31   |    [config](./deit3-small-p16_64xb64_in1k.py)    | [model](https://download.openmmlab.com/mmclassification/v0/deit3/deit3-small-p16_3rdparty_in1k_20221008-0f7c70cf.pth) |\n"), nil},
		// the text's own ImageNet-21k pre-training (arXiv:2204.07118 as pasted), and another model's (arXiv:2207.10666)
		{"evaluations with and without pre-training on ImageNet-21k", paper("Our evaluations on Image classification (ImageNet-1k with and without pre-training on ImageNet-21k), transfer learning and semantic segmentation show that our procedure outperforms by a large margin previous fully supervised training recipes for ViT."), []string{"imagenet-21k-fall11/uses"}},
		{"comparable to SwinB pretrained on ImageNet-21k", paper("It achieves a top-1 accuracy of 84.8% on ImageNet-1k with only 21M parameters, being comparable to SwinB pretrained on ImageNet-21k while using 4.2 times fewer parameters."), nil},
	}
	runScoredCases(t, m, cases)
}
