<!-- title: Giới thiệu -->
<h2>Chức năng, nhiệm vụ</h2>
<p>Sở Tư pháp là cơ quan chuyên môn thuộc UBND tỉnh, tham mưu quản lý nhà nước về công tác xây dựng và thi hành pháp luật, kiểm tra, rà soát văn bản quy phạm pháp luật, phổ biến, giáo dục pháp luật, hộ tịch, quốc tịch, lý lịch tư pháp, bổ trợ tư pháp.</p>
