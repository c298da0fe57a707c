# Agreement of the round-6 blind re-annotation (blind-labels.jsonl) with the test labels in ../labels.jsonl:
# python3 extract/testdata/real/audit/agree.py. Before the two corrections it printed 65 common of 70/70.
import json, os
from collections import Counter
blind={}
for l in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'blind-labels.jsonl')):
    r=json.loads(l); blind[r['id']]=r
ex={}
for l in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'labels.jsonl')):
    r=json.loads(l)
    if r.get('split')=='test' and r['id'] in blind: ex[r['id']]=r
assert len(ex)==96
T=lambda e:{(x['dataset'],x['relation']) for x in e}
B=set();E=set()
for i in blind:
    B|={(i,)+t for t in T(blind[i]['expect'])}
    E|={(i,)+t for t in T(ex[i]['expect'])}
tp=len(B&E)
print('blind triples',len(B),'existing triples',len(E),'common',tp)
print('blind vs existing(as gold): P=%.3f R=%.3f F1=%.3f'%(tp/len(B),tp/len(E),2*tp/(len(B)+len(E))))
print('existing vs blind(as gold): P=%.3f R=%.3f'%(tp/len(E),tp/len(B)))
exact=sum(T(blind[i]['expect'])==T(ex[i]['expect']) for i in blind)
print('record exact agreement %d/96 = %.3f'%(exact,exact/96))
# pos/neg record-level
pn=Counter((bool(blind[i]['expect']),bool(ex[i]['expect'])) for i in blind); print('record pos/neg (blind,existing):',pn)
# kappa over union of triples + all (record,dataset,relation) cells? Two definitions
U=B|E
def kappa(a,b,n):
    # a,b sets of positive cells; n total cells
    n11=len(a&b); n10=len(a-b); n01=len(b-a); n00=n-n11-n10-n01
    po=(n11+n00)/n
    pa=(n11+n10)/n; pb=(n11+n01)/n
    pe=pa*pb+(1-pa)*(1-pb)
    return (po-pe)/(1-pe), dict(n=n,n11=n11,n10=n10,n01=n01,n00=n00,po=po,pe=pe)
# Def A: full grid 96 records x 12 scored datasets (hrt included => 13) x 3 relations
DS=["ms-celeb-1m","megaface","tiny-images","dukemtmc","imagenet-21k-fall11","laion-5b","laion-400m","books3","vggface2","brainwash","oxford-town-centre","hrt-transgender","uccs"]
print('kappa full grid 96x13x3:',kappa(B,E,96*13*3))
# Def B: per record, only datasets that either annotator named (x3 relations)
cells=set()
for (i,d,r) in U:
    for rel in ('data','model','uses'): cells.add((i,d,rel))
print('kappa over (record,dataset) pairs named by either x3 relations:',kappa(B,E,len(cells)))
# Def C: record x dataset level (any relation), full grid
Bd={(i,d) for i,d,r in B}; Ed={(i,d) for i,d,r in E}
print('kappa record x dataset (any relation), grid 96x13:',kappa(Bd,Ed,96*13))
# per relation
for rel in ('data','model','uses'):
    b={t for t in B if t[2]==rel}; e={t for t in E if t[2]==rel}
    print(rel,'blind',len(b),'existing',len(e),'common',len(b&e), 'kappa grid', round(kappa(b,e,96*13)[0],3))
# disagreements
out=[]
for i in blind:
    b=T(blind[i]['expect']); e=T(ex[i]['expect'])
    if b!=e: out.append((i,sorted(e),sorted(b),blind[i]['confidence']))
print(len(out),'records disagree')
for o in out: print(o)
json.dump([o[0] for o in out],open('disagree_ids.json','w'))
