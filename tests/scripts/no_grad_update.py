import torch
import torch.nn.functional as F

lr = 0.5
logits_w = torch.tensor([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]], requires_grad=True)
x = torch.tensor([1.0, 2.0])
label = torch.tensor(2)

for step in range(5):
    scores = logits_w @ x
    loss = F.cross_entropy(scores, label)
    loss.backward()
    with torch.no_grad():
        logits_w -= lr * logits_w.grad
    logits_w.grad.zero_()
    print(loss.item())
print(logits_w.tolist())
