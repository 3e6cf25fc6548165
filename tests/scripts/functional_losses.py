import math
import numpy as np
import torch
import torch.nn.functional as F

x = torch.tensor([1.0, -2.0, 0.5])
w = torch.tensor([0.3, 0.2, -0.1], requires_grad=True)
b = torch.tensor(0.1, requires_grad=True)
y = torch.tensor(1.0)

z = torch.dot(w, x) + b
h = F.relu(z) + torch.exp(-z) * np.exp(1.0) + torch.tanh(z) + z.sigmoid() + z.pow(2) / 2 * math.pi
loss = F.binary_cross_entropy_with_logits(h, y) + F.mse_loss(z, y)
loss.backward()
print(w.grad.tolist(), b.grad.item())
