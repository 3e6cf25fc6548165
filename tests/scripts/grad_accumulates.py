import torch

# without zero_grad, two backward() calls add up in w.grad
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
x = torch.tensor(2.0)
y_true = torch.tensor(4.0)

y_pred = w * x + b
loss = (y_pred - y_true) ** 2
loss.backward(retain_graph=True)
print(w.grad.item(), b.grad.item())
loss.backward()
print(w.grad.item(), b.grad.item())
